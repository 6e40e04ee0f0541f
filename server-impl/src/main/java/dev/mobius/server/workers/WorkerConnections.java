package dev.mobius.server.workers;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The worker sockets open on this node, by connection and by the session registered on them, and
 * how frames are written to them: every part of the worker path sends through here.
 */
final class WorkerConnections {
    private static final Logger log = LoggerFactory.getLogger(WorkerConnections.class);

    private final ObjectMapper frames;
    private final Set<WorkerConnection> open = ConcurrentHashMap.newKeySet();
    private final Map<String, WorkerConnection> bySession = new ConcurrentHashMap<>();

    WorkerConnections(ObjectMapper frames) {
        this.frames = frames;
    }

    ObjectMapper frames() {
        return frames;
    }

    void add(WorkerConnection c) {
        open.add(c);
    }

    /** The connection is gone; its session, if it registered one, is no longer held by it. */
    void remove(WorkerConnection c) {
        open.remove(c);
        if (c.sessionId != null) {
            bySession.remove(c.sessionId, c);
        }
    }

    /** @return the connection that held the session before, if another */
    WorkerConnection bind(String sessionId, WorkerConnection c) {
        return bySession.put(sessionId, c);
    }

    WorkerConnection bySession(String sessionId) {
        return sessionId == null ? null : bySession.get(sessionId);
    }

    Iterable<WorkerConnection> all() {
        return open;
    }

    int size() {
        return open.size();
    }

    boolean isEmpty() {
        return open.isEmpty();
    }

    void send(WorkerConnection c, Frames.Frame frame) {
        try {
            c.sendText(Frames.write(frames, frame));
        } catch (RuntimeException e) {
            log.debug("send to {} failed: {}", c.id, e.getMessage());
        }
    }

    void invalid(WorkerConnection c, String messageId, String message) {
        send(c, new Frames.Error(messageId, new Frames.ProtocolError("invalid_frame", message)));
    }

    /** Fatal register errors close the socket: some SDKs only log error frames and would wait forever. */
    void fatal(WorkerConnection c, String messageId, String code, String message) {
        send(c, new Frames.Error(messageId, new Frames.ProtocolError(code, message)));
        c.close(1008, code); // 1008: policy violation
    }
}
