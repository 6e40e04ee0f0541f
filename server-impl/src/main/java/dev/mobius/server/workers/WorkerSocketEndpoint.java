package dev.mobius.server.workers;

import dev.mobius.server.access.Authenticator;
import dev.mobius.server.access.Authorizer;
import dev.mobius.server.db.DatabaseFailures;
import dev.mobius.server.http.ApiException;
import dev.mobius.server.http.OperationCatalog;
import dev.mobius.server.tenancy.Caller;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.UUID;
import java.util.concurrent.Executor;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.glassfish.grizzly.http.HttpRequestPacket;
import org.glassfish.grizzly.http.util.Header;
import org.glassfish.grizzly.websockets.DataFrame;
import org.glassfish.grizzly.websockets.HandshakeException;
import org.glassfish.grizzly.websockets.ProtocolHandler;
import org.glassfish.grizzly.websockets.WebSocket;
import org.glassfish.grizzly.websockets.WebSocketApplication;
import org.glassfish.grizzly.websockets.WebSocketEngine;
import org.glassfish.grizzly.websockets.WebSocketListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The worker socket on the API's own Grizzly listener (grizzly-websockets). The upgrade is
 * checked as any request is: the {@link Authenticator}, then the {@link Authorizer} with the
 * permission the contract declares for {@code openWorkerSocket}. Open sockets get keepalives,
 * and their credential is checked again every {@code authCheckMillis}.
 */
final class WorkerSocketEndpoint extends WebSocketApplication {
    static final String OPERATION = "openWorkerSocket";
    private static final Logger log = LoggerFactory.getLogger(WorkerSocketEndpoint.class);
    /** The largest text message a worker may send (16 MiB of characters), whole or in fragments. */
    static final int MAX_MESSAGE_CHARS = 16 * 1024 * 1024;

    private static final Pattern ROUTE = Pattern.compile("^/v1/projects/([^/]+)/workers/socket/?$");

    private final Authenticator authenticator;
    private final Authorizer authorizer;
    private final String permission;
    private final WorkerConnections connections;
    private final WorkerSessions sessions;
    private final FrameProtocol protocol;
    private final Executor framePool;
    private final boolean queryToken;
    private volatile int port = -1;

    WorkerSocketEndpoint(
            Authenticator authenticator,
            Authorizer authorizer,
            OperationCatalog catalog,
            WorkerConnections connections,
            WorkerSessions sessions,
            FrameProtocol protocol,
            Executor framePool,
            boolean queryToken) {
        OperationCatalog.OperationInfo op = catalog.find(OPERATION);
        if (op == null || op.permission() == null) {
            throw new IllegalStateException("the contract declares no permission for " + OPERATION);
        }
        this.authenticator = authenticator;
        this.authorizer = authorizer;
        this.permission = op.permission();
        this.connections = connections;
        this.sessions = sessions;
        this.protocol = protocol;
        this.framePool = framePool;
        this.queryToken = queryToken;
    }

    /**
     * Serves upgrades arriving on {@code port}. Grizzly's own websockets module (same release as
     * the grizzly-http-server Jersey runs on) plugs into the listener Jersey created, so the socket
     * shares its port and TLS; Tyrus could only do that by copying its add-on classes. Its engine
     * is process-wide, which is why an application only accepts requests for its own port (two
     * nodes in one JVM in the tests).
     */
    // The path-mapped register() matches on the path alone; this application also checks the port.
    @SuppressWarnings("deprecation")
    void register(int port) {
        this.port = port;
        WebSocketEngine.getEngine().register(this);
    }

    void unregister() {
        WebSocketEngine.getEngine().unregister(this);
    }

    // ------------------------------------------------------------------ upgrade

    @Override
    @SuppressWarnings("deprecation") // the engine still asks each application through this method
    public boolean isApplicationRequest(HttpRequestPacket request) {
        return request.getLocalPort() == port
                && ROUTE.matcher(request.getRequestURI()).matches();
    }

    @Override
    public WebSocket createSocket(ProtocolHandler handler, HttpRequestPacket request, WebSocketListener... listeners) {
        try {
            return admit(handler, request, listeners);
        } catch (RuntimeException e) {
            if (!DatabaseFailures.isUnavailable(e)) {
                throw e;
            }
            // As for HTTP requests: the worker runtime reconnects after Retry-After.
            request.getResponse().setHeader("Retry-After", String.valueOf(ApiException.DATABASE_RETRY_AFTER_SECONDS));
            throw refuse(request, 503, "Service Unavailable");
        }
    }

    private WebSocket admit(ProtocolHandler handler, HttpRequestPacket request, WebSocketListener... listeners) {
        Matcher m = ROUTE.matcher(request.getRequestURI());
        if (!m.matches()) {
            throw refuse(request, 404, "Not Found");
        }
        String projectRef = URLDecoder.decode(m.group(1), StandardCharsets.UTF_8);
        String authorization = request.getHeader(Header.Authorization);
        if (authorization == null && queryToken) {
            String token = queryParam(request.getQueryString(), "access_token");
            authorization = token == null ? null : "Bearer " + token;
        }
        Caller caller;
        try {
            caller = authenticator.authenticate(
                    authorization, request.getRemoteAddress(), request.getHeader(Header.UserAgent), null);
        } catch (ApiException e) {
            request.getResponse().setHeader("WWW-Authenticate", "Bearer");
            throw refuse(request, 401, "Unauthorized");
        }
        String projectId = authorizer
                .grants(caller, projectRef, permission)
                .map(grant -> {
                    if (!grant.permit(permission)) {
                        throw refuse(request, 403, "Forbidden");
                    }
                    return grant.project().id();
                })
                .orElseThrow(() -> refuse(request, 404, "Not Found"));
        return new WorkerConnection(
                handler, request, "wconn_" + UUID.randomUUID(), caller, projectId, authorization, listeners);
    }

    /** Grizzly writes the refusal as a bare status line: give it a length so clients read it and move on. */
    private static HandshakeException refuse(HttpRequestPacket request, int status, String reason) {
        request.getResponse().setContentLength(0);
        request.getResponse().setHeader("Connection", "close");
        return new HandshakeException(status, reason);
    }

    private static String queryParam(String query, String name) {
        if (query == null) {
            return null;
        }
        for (String part : query.split("&")) {
            int eq = part.indexOf('=');
            if (eq > 0 && part.substring(0, eq).equals(name)) {
                return URLDecoder.decode(part.substring(eq + 1), StandardCharsets.UTF_8);
            }
        }
        return null;
    }

    // ------------------------------------------------------------------ open sockets

    @Override
    public void onConnect(WebSocket socket) {
        connections.add((WorkerConnection) socket);
        super.onConnect(socket);
    }

    @Override
    public void onClose(WebSocket socket, DataFrame frame) {
        WorkerConnection c = (WorkerConnection) socket;
        super.onClose(socket, frame);
        if (c.gone.compareAndSet(false, true)) {
            connections.remove(c);
            c.parked = null;
            if (c.sessionId != null) {
                try {
                    sessions.disconnected(c.sessionId, c.id);
                } catch (RuntimeException e) {
                    log.debug("could not mark session {} disconnected: {}", c.sessionId, e.getMessage());
                }
            }
        }
    }

    @Override
    public void onMessage(WebSocket socket, byte[] bytes) {
        protocol.onBinary((WorkerConnection) socket);
    }

    @Override
    public void onMessage(WebSocket socket, String text) {
        WorkerConnection c = (WorkerConnection) socket;
        c.enqueue(() -> protocol.onFrame(c, text), framePool);
    }

    /**
     * A text message sent in several frames (clients split large ones, such as the report of a long
     * generation) is put together and handled as one; a message over {@value #MAX_MESSAGE_CHARS}
     * characters ends the socket with {@code message_too_large}.
     */
    @Override
    public void onFragment(WebSocket socket, String fragment, boolean last) {
        WorkerConnection c = (WorkerConnection) socket;
        if (c.fragments.length() + fragment.length() > MAX_MESSAGE_CHARS) {
            c.fragments.setLength(0);
            connections.fatal(
                    c, null, "message_too_large", "a frame may hold at most " + MAX_MESSAGE_CHARS + " characters");
            return;
        }
        c.fragments.append(fragment);
        if (last) {
            String text = c.fragments.toString();
            c.fragments.setLength(0);
            onMessage(socket, text);
        }
    }

    void keepalive() {
        for (WorkerConnection c : connections.all()) {
            connections.send(c, new Frames.Keepalive("msg_" + UUID.randomUUID()));
        }
    }

    /** A revoked or expired key, or a disabled principal, ends the socket it opened. */
    void recheckCredentials() {
        for (WorkerConnection c : connections.all()) {
            if (!c.credentialValid(authenticator)) {
                connections.fatal(c, null, "invalid_actor", "the credential of this socket is no longer valid");
            }
        }
    }
}
