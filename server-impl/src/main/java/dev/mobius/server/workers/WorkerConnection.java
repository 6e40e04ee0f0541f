package dev.mobius.server.workers;

import dev.mobius.server.access.Authenticator;
import dev.mobius.server.http.ApiException;
import dev.mobius.server.tenancy.Caller;
import java.util.concurrent.atomic.AtomicBoolean;
import org.glassfish.grizzly.http.HttpRequestPacket;
import org.glassfish.grizzly.websockets.ProtocolHandler;
import org.glassfish.grizzly.websockets.SimpleWebSocket;
import org.glassfish.grizzly.websockets.WebSocketListener;

/** One worker socket: who opened it, for which project, and the session it registered. */
// SimpleWebSocket, not DefaultWebSocket: the latter wraps the request in servlet types we do not ship.
final class WorkerConnection extends SimpleWebSocket {
    final String id;
    final Caller caller;
    final String projectId;
    /** The credential as presented at the upgrade, re-checked while the socket is open. */
    final String authorization;

    volatile String sessionId;
    volatile Frames.Claim parked;
    volatile java.util.List<String> capabilities = java.util.List.of();
    /** The advertisement claims are filtered by: set at register, refreshed by each claim or ready frame naming it. */
    volatile java.util.List<String> queues = java.util.List.of();

    volatile java.util.List<String> actionNames = java.util.List.of();
    volatile java.util.List<dev.mobius.server.jobs.JobQueue.Model> models = java.util.List.of();
    volatile String environmentId;
    volatile long lastTouchNanos;
    volatile long lastNudgeNanos;
    final AtomicBoolean gone = new AtomicBoolean();
    /** A text message arriving in fragments, until its last one; read only on the socket's own read path. */
    final StringBuilder fragments = new StringBuilder();

    WorkerConnection(
            ProtocolHandler handler,
            HttpRequestPacket request,
            String id,
            Caller caller,
            String projectId,
            String authorization,
            WebSocketListener... listeners) {
        super(handler, listeners);
        this.id = id;
        this.caller = caller;
        this.projectId = projectId;
        this.authorization = authorization;
    }

    /**
     * Frames of one connection are handled in order, off Grizzly's selector thread (which must not
     * wait on the database): each connection drains its own queue on the shared pool.
     */
    private final java.util.concurrent.ConcurrentLinkedQueue<Runnable> inbox =
            new java.util.concurrent.ConcurrentLinkedQueue<>();

    private final AtomicBoolean draining = new AtomicBoolean();

    void enqueue(Runnable task, java.util.concurrent.Executor pool) {
        inbox.add(task);
        schedule(pool);
    }

    private void schedule(java.util.concurrent.Executor pool) {
        if (!inbox.isEmpty() && draining.compareAndSet(false, true)) {
            pool.execute(() -> {
                try {
                    Runnable next;
                    while ((next = inbox.poll()) != null) {
                        next.run();
                    }
                } finally {
                    draining.set(false);
                    schedule(pool);
                }
            });
        }
    }

    /** Whether the credential this socket was opened with still authenticates; a database hiccup is not a revocation. */
    boolean credentialValid(Authenticator authenticator) {
        try {
            authenticator.authenticate(authorization, null, null, null);
            return true;
        } catch (ApiException e) {
            return false;
        } catch (RuntimeException e) {
            return true;
        }
    }

    /** Frames go out whole and one at a time, whichever thread sends them. */
    synchronized void sendText(String text) {
        if (isConnected()) {
            send(text);
        }
    }
}
