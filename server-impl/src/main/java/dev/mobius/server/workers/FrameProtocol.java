package dev.mobius.server.workers;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mobius.server.access.Authenticator;
import dev.mobius.server.jobs.JobQueue;
import dev.mobius.server.sessions.GenerationDeltas;
import java.time.ZoneOffset;
import java.util.List;
import org.glassfish.grizzly.websockets.WebSocket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The worker frame protocol (reference §6.2): each frame a worker sends, checked and answered.
 * Frames of one connection arrive here in order, on the frame pool; claims go on to the
 * {@link ClaimDispatcher}, reports to the {@link ReportWriter}, the rest is answered here.
 */
final class FrameProtocol {
    private static final Logger log = LoggerFactory.getLogger(FrameProtocol.class);

    private final WorkerConnections connections;
    private final WorkerSessions sessions;
    private final JobQueue queue;
    private final Authenticator authenticator;
    private final ClaimDispatcher claims;
    private final ReportWriter reports;
    private final GenerationDeltas deltas;

    FrameProtocol(
            WorkerConnections connections,
            WorkerSessions sessions,
            JobQueue queue,
            Authenticator authenticator,
            ClaimDispatcher claims,
            ReportWriter reports,
            GenerationDeltas deltas) {
        this.connections = connections;
        this.sessions = sessions;
        this.queue = queue;
        this.authenticator = authenticator;
        this.claims = claims;
        this.reports = reports;
        this.deltas = deltas;
    }

    void onBinary(WorkerConnection c) {
        connections.send(
                c, new Frames.Error(null, new Frames.ProtocolError("invalid_frame", "frames must be text frames")));
    }

    void onFrame(WorkerConnection c, String text) {
        Frames.Frame frame;
        try {
            frame = Frames.parse(connections.frames(), text);
        } catch (Exception e) {
            connections.send(
                    c,
                    new Frames.Error(
                            messageId(text),
                            new Frames.ProtocolError(
                                    "invalid_frame",
                                    "the frame is not a valid worker frame: " + firstLine(e.getMessage()))));
            return;
        }
        try {
            handle(c, frame);
        } catch (RuntimeException e) {
            log.warn("worker frame {} failed", frame.getClass().getSimpleName(), e);
            connections.send(
                    c,
                    new Frames.Error(
                            messageId(text), new Frames.ProtocolError("internal", "the frame could not be processed")));
        }
    }

    private void handle(WorkerConnection c, Frames.Frame frame) {
        if (frame instanceof Frames.Keepalive) {
            return; // never answered: SDKs answer server keepalives, so answering theirs would loop
        }
        if (frame instanceof Frames.Register r) {
            register(c, r);
            return;
        }
        if (c.sessionId == null) {
            connections.send(
                    c,
                    new Frames.Error(
                            id(frame), new Frames.ProtocolError("not_registered", "send worker.register first")));
            return;
        }
        if (frame instanceof Frames.Claim claim) {
            claim(c, claim);
        } else if (frame instanceof Frames.Ready ready) {
            refresh(c, ready.queues(), ready.actionNames(), ready.models());
            // Rare (no public SDK sends it), and what it advertises feeds the catalogue: stored at once.
            c.lastTouchNanos = System.nanoTime();
            sessions.ready(c.sessionId, ready);
        } else if (frame instanceof Frames.Heartbeat hb) {
            heartbeat(c, hb);
        } else if (frame instanceof Frames.Report report) {
            report(c, report);
        } else if (frame instanceof Frames.GenerationDelta delta) {
            if (delta.jobId() == null || delta.leaseToken() == null || delta.sequence() == null) {
                connections.invalid(
                        c, delta.messageId(), "generation.delta needs job_id, lease_token, sequence and delta");
            } else if (!deltas.accept(delta.jobId(), delta.leaseToken(), delta.sequence(), delta.delta())) {
                connections.send(
                        c,
                        new Frames.Error(
                                delta.messageId(),
                                new Frames.ProtocolError(
                                        "lease_lost", "job \"" + delta.jobId() + "\" is not leased with this token")));
            } else {
                connections.send(c, new Frames.GenerationDeltaAck(delta.messageId(), delta.jobId(), delta.sequence()));
            }
        } else if (frame instanceof Frames.Draining d) {
            c.parked = null;
            sessions.setDraining(c.sessionId);
            connections.send(c, new Frames.DrainingAck(d.messageId()));
        } else {
            connections.invalid(c, id(frame), "this frame is only sent by the server");
        }
    }

    private void register(WorkerConnection c, Frames.Register r) {
        if (r.workerInstanceId() == null || r.workerInstanceId().isBlank()) {
            connections.invalid(c, r.messageId(), "worker.register needs worker_instance_id");
            return;
        }
        if ((r.concurrencyLimit() != null && r.concurrencyLimit() < 1)
                || (r.availableSlots() != null && r.availableSlots() < 0)) {
            connections.invalid(
                    c, r.messageId(), "concurrency_limit must be at least 1 and available_slots at least 0");
            return;
        }
        if (!c.credentialValid(authenticator)) {
            connections.fatal(c, r.messageId(), "invalid_actor", "the credential of this socket is no longer valid");
            return;
        }
        WorkerSessions.Registration reg = sessions.register(c.caller, c.projectId, c.id, r);
        if (reg.conflict()) {
            connections.fatal(
                    c,
                    r.messageId(),
                    "worker_instance_conflict",
                    "worker_instance_id \"" + r.workerInstanceId()
                            + "\" is already registered in this project by another live process");
            return;
        }
        c.sessionId = reg.sessionId();
        c.capabilities = r.capabilities() == null ? List.of() : List.copyOf(r.capabilities());
        c.queues = r.queues() == null ? List.of() : List.copyOf(r.queues());
        c.actionNames = r.actionNames() == null ? List.of() : List.copyOf(r.actionNames());
        c.models = models(r.models());
        c.environmentId = r.environmentId();
        c.lastTouchNanos = System.nanoTime();
        WorkerConnection previous = connections.bind(reg.sessionId(), c);
        if (previous != null && previous != c) {
            previous.close(WebSocket.NORMAL_CLOSURE, "session continued on another connection");
        }
        connections.send(
                c,
                new Frames.Registered(
                        r.messageId(),
                        reg.token(),
                        new Frames.LeaseConfig(queue.leaseSeconds(), queue.heartbeatSeconds())));
    }

    private void claim(WorkerConnection c, Frames.Claim claim) {
        if (claim.availableSlots() != null && claim.availableSlots() < 0) {
            connections.invalid(c, claim.messageId(), "available_slots must be at least 0");
            return;
        }
        touch(c, claim, true);
        refresh(c, claim.queues(), claim.actionNames(), claim.models());
        claims.park(c, claim);
    }

    /** Filters a claim or ready frame names replace the ones in force; absent ones stay (reference 6.5). */
    private static void refresh(
            WorkerConnection c, List<String> queues, List<String> actionNames, List<Frames.ModelCapability> models) {
        if (queues != null) {
            c.queues = List.copyOf(queues);
        }
        if (actionNames != null) {
            c.actionNames = List.copyOf(actionNames);
        }
        if (models != null) {
            c.models = models(models);
        }
    }

    private static List<JobQueue.Model> models(List<Frames.ModelCapability> models) {
        return models == null
                ? List.of()
                : models.stream()
                        .filter(m -> m != null && m.provider() != null && m.model() != null)
                        .map(m -> new JobQueue.Model(m.provider(), m.model()))
                        .toList();
    }

    private void heartbeat(WorkerConnection c, Frames.Heartbeat hb) {
        if (hb.jobId() == null || hb.leaseToken() == null) {
            connections.invalid(c, hb.messageId(), "job.heartbeat needs job_id and lease_token");
            return;
        }
        touch(c, null, false);
        JobQueue.Beat beat = queue.heartbeat(hb.jobId(), hb.leaseToken());
        if (!beat.ok()) {
            connections.send(
                    c,
                    new Frames.Error(
                            hb.messageId(),
                            new Frames.ProtocolError(
                                    "lease_lost", "job \"" + hb.jobId() + "\" is not leased with this token")));
            return;
        }
        Frames.CancelDirective cancel = beat.cancelRequestedAt() == null
                ? null
                : new Frames.CancelDirective(
                        hb.jobId(),
                        beat.cancelReason(),
                        beat.cancelRequestedAt()
                                .atZoneSameInstant(ZoneOffset.UTC)
                                .toInstant()
                                .toString());
        connections.send(c, new Frames.HeartbeatAck(hb.messageId(), hb.jobId(), cancel));
    }

    private void report(WorkerConnection c, Frames.Report r) {
        if (r.jobId() == null || r.leaseToken() == null) {
            connections.invalid(c, r.messageId(), "job.report needs job_id and lease_token");
            return;
        }
        if (r.status() != null && !List.of("completed", "failed", "cancelled").contains(r.status())) {
            connections.invalid(c, r.messageId(), "status must be completed, failed or cancelled");
            return;
        }
        reports.submit(c, r);
    }

    /** The session's last-seen time and filters are stored at most every 2 s (claims changing filters: every 200 ms). */
    private void touch(WorkerConnection c, Frames.Claim claim, boolean force) {
        long now = System.nanoTime();
        boolean filters =
                claim != null && (claim.queues() != null || claim.actionNames() != null || claim.models() != null);
        if (now - c.lastTouchNanos > 2_000_000_000L || (force && filters && now - c.lastTouchNanos > 200_000_000L)) {
            c.lastTouchNanos = now;
            sessions.touch(c.sessionId, claim);
        }
    }

    private String messageId(String text) {
        try {
            JsonNode node = connections.frames().readTree(text);
            return node != null && node.path("message_id").isTextual()
                    ? node.get("message_id").asText()
                    : null;
        } catch (Exception e) {
            return null;
        }
    }

    private static String id(Frames.Frame f) {
        try {
            var m = f.getClass().getMethod("messageId");
            return (String) m.invoke(f);
        } catch (ReflectiveOperationException e) {
            return null;
        }
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
