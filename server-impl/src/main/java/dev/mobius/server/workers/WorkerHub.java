package dev.mobius.server.workers;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import javax.sql.DataSource;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.glassfish.grizzly.http.HttpRequestPacket;
import org.glassfish.grizzly.http.util.Header;
import org.glassfish.grizzly.websockets.DataFrame;
import org.glassfish.grizzly.websockets.HandshakeException;
import org.glassfish.grizzly.websockets.ProtocolHandler;
import org.glassfish.grizzly.websockets.WebSocket;
import org.glassfish.grizzly.websockets.WebSocketApplication;
import org.glassfish.grizzly.websockets.WebSocketEngine;
import org.glassfish.grizzly.websockets.WebSocketListener;
import org.jdbi.v3.core.Jdbi;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static dev.mobius.server.background.Threads.daemon;
import static dev.mobius.server.background.Threads.sleepQuietly;

import dev.mobius.server.access.Authenticator;
import dev.mobius.server.background.FailureLog;
import dev.mobius.server.access.Caller;
import dev.mobius.server.access.RoleDao;
import dev.mobius.server.http.ApiException;
import dev.mobius.server.jobs.JobQueue;
import dev.mobius.server.projects.ProjectDao;
import dev.mobius.server.db.Daos;
import dev.mobius.server.db.DatabaseFailures;

/**
 * The worker socket on the API's own Grizzly listener (grizzly-websockets, see {@link #attach}).
 * It authenticates the upgrade, speaks the frame protocol, parks claims until work exists, and
 * wakes them on {@code NOTIFY} from any node, with a polling pass as the fallback for a lost
 * notification. Reports are written in batches: one transaction records many completions.
 */
public final class WorkerHub extends WebSocketApplication implements AutoCloseable {
    static final String PERMISSION = "mobius.workers.connect";
    private static final Logger log = LoggerFactory.getLogger(WorkerHub.class);
    private static final Pattern ROUTE = Pattern.compile("^/v1/projects/([^/]+)/workers/socket/?$");

    private final Jdbi jdbi;
    private final DataSource dataSource;
    private final Authenticator authenticator;
    private final JobQueue queue;
    private final WorkerSessions sessions;
    private final ObjectMapper frames = Frames.newMapper();
    private final boolean queryToken;
    private final long pollMillis;
    private final long keepaliveMillis;
    private final long authCheckMillis;

    private final Set<WorkerConnection> connections = ConcurrentHashMap.newKeySet();
    private final Map<String, WorkerConnection> bySession = new ConcurrentHashMap<>();
    private final Set<String> wokenProjects = ConcurrentHashMap.newKeySet();
    private final Object signal = new Object();
    private final BlockingQueue<PendingReport> reports = new ArrayBlockingQueue<>(65536);
    private final java.util.concurrent.ExecutorService framePool = Executors.newFixedThreadPool(
            Integer.getInteger("mobius.workers.frame-threads", 8), r -> daemon(r, "worker-frames"));
    private final ScheduledExecutorService timers = Executors.newScheduledThreadPool(1, r -> daemon(r, "worker-timers"));
    private final FailureLog listenerFailures = new FailureLog(log, "job listener");
    private final FailureLog dispatchFailures = new FailureLog(log, "worker dispatch");
    private volatile boolean running = true;
    private volatile int port = -1;
    private Thread dispatcher;
    private Thread listener;
    private Thread reportWriter;

    public WorkerHub(Jdbi jdbi, DataSource dataSource, Authenticator authenticator, JobQueue queue, WorkerSessions sessions,
                     boolean queryToken, long pollMillis, long keepaliveMillis, long authCheckMillis) {
        this.jdbi = jdbi;
        this.dataSource = dataSource;
        this.authenticator = authenticator;
        this.queue = queue;
        this.sessions = sessions;
        this.queryToken = queryToken;
        this.pollMillis = pollMillis;
        this.keepaliveMillis = keepaliveMillis;
        this.authCheckMillis = authCheckMillis;
    }

    /**
     * Serves upgrades arriving on {@code port}. Grizzly's own websockets module (same release as
     * the grizzly-http-server Jersey runs on) plugs into the listener Jersey created, so the socket
     * shares its port and TLS; Tyrus could only do that by copying its add-on classes. Its engine
     * is process-wide, which is why an application only accepts requests for its own port (two
     * nodes in one JVM in the tests).
     */
    public void start(int port) {
        this.port = port;
        WebSocketEngine.getEngine().register(this);
        dispatcher = daemon(this::dispatchLoop, "worker-dispatch");
        listener = daemon(this::listen, "worker-listen");
        reportWriter = daemon(this::writeReports, "worker-reports");
        dispatcher.start();
        listener.start();
        reportWriter.start();
        timers.scheduleWithFixedDelay(this::sweep, 500, 500, TimeUnit.MILLISECONDS);
        timers.scheduleWithFixedDelay(this::keepalive, keepaliveMillis, keepaliveMillis, TimeUnit.MILLISECONDS);
        timers.scheduleWithFixedDelay(this::recheckCredentials, authCheckMillis, authCheckMillis, TimeUnit.MILLISECONDS);
    }

    public int connectionCount() {
        return connections.size();
    }

    // ------------------------------------------------------------------ upgrade

    @Override
    @SuppressWarnings("deprecation")
    public boolean isApplicationRequest(HttpRequestPacket request) {
        return request.getLocalPort() == port && ROUTE.matcher(request.getRequestURI()).matches();
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
            caller = authenticator.authenticate(authorization, request.getRemoteAddress(), request.getHeader(Header.UserAgent), null);
        } catch (ApiException e) {
            request.getResponse().setHeader("WWW-Authenticate", "Bearer");
            throw refuse(request, 401, "Unauthorized");
        }
        String projectId = jdbi.withHandle(h -> {
            String id = Daos.of(h, ProjectDao.class).findByRef(caller.orgId(), projectRef).filter(p -> caller.canReach(p.id()))
                    .map(p -> p.id()).orElseThrow(() -> refuse(request, 404, "Not Found"));
            if (!Daos.of(h, RoleDao.class).grantedPermissions(caller.principalId(), id).contains(PERMISSION)) {
                throw refuse(request, 403, "Forbidden");
            }
            return id;
        });
        return new WorkerConnection(handler, request, "wconn_" + UUID.randomUUID(), caller, projectId, authorization, listeners);
    }

    /** Grizzly writes the refusal as a bare status line: give it a length so clients read it and move on. */
    private static HandshakeException refuse(HttpRequestPacket request, int status, String reason) {
        request.getResponse().setContentLength(0);
        request.getResponse().setHeader("Connection", "close");
        return new HandshakeException(status, reason);
    }

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
                bySession.remove(c.sessionId, c);
                try {
                    sessions.disconnected(c.sessionId, c.id);
                } catch (RuntimeException e) {
                    log.debug("could not mark session {} disconnected: {}", c.sessionId, e.getMessage());
                }
            }
        }
    }

    // ------------------------------------------------------------------ frames

    @Override
    public void onMessage(WebSocket socket, byte[] bytes) {
        send((WorkerConnection) socket, new Frames.Error(null, new Frames.ProtocolError("invalid_frame", "frames must be text frames")));
    }

    @Override
    public void onMessage(WebSocket socket, String text) {
        WorkerConnection c = (WorkerConnection) socket;
        c.enqueue(() -> onFrame(c, text), framePool);
    }

    private void onFrame(WorkerConnection c, String text) {
        Frames.Frame frame;
        try {
            frame = Frames.parse(frames, text);
        } catch (Exception e) {
            send(c, new Frames.Error(messageId(text), new Frames.ProtocolError("invalid_frame", "the frame is not a valid worker frame: "
                    + firstLine(e.getMessage()))));
            return;
        }
        try {
            handle(c, frame);
        } catch (RuntimeException e) {
            log.warn("worker frame {} failed", frame.getClass().getSimpleName(), e);
            send(c, new Frames.Error(messageId(text), new Frames.ProtocolError("internal", "the frame could not be processed")));
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
            send(c, new Frames.Error(id(frame), new Frames.ProtocolError("not_registered", "send worker.register first")));
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
                invalid(c, delta.messageId(), "generation.delta needs job_id, lease_token, sequence and delta");
            } else {
                send(c, new Frames.GenerationDeltaAck(delta.messageId(), delta.jobId(), delta.sequence()));
            }
        } else if (frame instanceof Frames.Draining d) {
            c.parked = null;
            sessions.setDraining(c.sessionId);
            send(c, new Frames.DrainingAck(d.messageId()));
        } else {
            invalid(c, id(frame), "this frame is only sent by the server");
        }
    }

    private void register(WorkerConnection c, Frames.Register r) {
        if (r.workerInstanceId() == null || r.workerInstanceId().isBlank()) {
            invalid(c, r.messageId(), "worker.register needs worker_instance_id");
            return;
        }
        if ((r.concurrencyLimit() != null && r.concurrencyLimit() < 1) || (r.availableSlots() != null && r.availableSlots() < 0)) {
            invalid(c, r.messageId(), "concurrency_limit must be at least 1 and available_slots at least 0");
            return;
        }
        if (!credentialValid(c)) {
            fatal(c, r.messageId(), "invalid_actor", "the credential of this socket is no longer valid");
            return;
        }
        WorkerSessions.Registration reg = sessions.register(c.caller, c.projectId, c.id, r);
        if (reg.conflict()) {
            fatal(c, r.messageId(), "worker_instance_conflict", "worker_instance_id \"" + r.workerInstanceId()
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
        WorkerConnection previous = bySession.put(reg.sessionId(), c);
        if (previous != null && previous != c) {
            previous.close(WebSocket.NORMAL_CLOSURE, "session continued on another connection");
        }
        send(c, new Frames.Registered(r.messageId(), reg.token(), new Frames.LeaseConfig(queue.leaseSeconds(), queue.heartbeatSeconds())));
    }

    private void claim(WorkerConnection c, Frames.Claim claim) {
        if (claim.availableSlots() != null && claim.availableSlots() < 0) {
            invalid(c, claim.messageId(), "available_slots must be at least 0");
            return;
        }
        touch(c, claim, true);
        refresh(c, claim.queues(), claim.actionNames(), claim.models());
        synchronized (c) {
            c.parked = claim; // a newer claim replaces a parked one
        }
        tryClaim(c);
    }

    /** Answers the parked claim if any eligible job exists; otherwise it stays parked. */
    private void tryClaim(WorkerConnection c) {
        synchronized (c) {
            Frames.Claim claim = c.parked;
            if (claim == null || c.gone.get()) {
                return;
            }
            int slots = claim.availableSlots() == null ? 1 : claim.availableSlots();
            List<JobQueue.Leased> jobs = queue.claim(c.projectId, c.sessionId, slots,
                    new JobQueue.Filter(c.queues, c.actionNames, c.capabilities, c.models, c.environmentId));
            if (jobs.isEmpty()) {
                return;
            }
            c.parked = null;
            List<Frames.ClaimedJob> out = new ArrayList<>(jobs.size());
            for (JobQueue.Leased j : jobs) {
                out.add(new Frames.ClaimedJob(j.id(), j.kind(), j.origin(), "customer_worker", j.queue(), j.actionName(), j.environmentId(),
                        j.provider(), j.model(),
                        j.runId(), j.stepKey(), null, null, null, j.spec(), j.leaseToken(), j.claimAttempt(), queue.leaseSeconds(),
                        queue.heartbeatSeconds()));
            }
            send(c, new Frames.Claimed(claim.messageId(), out));
        }
    }

    /** Filters a claim or ready frame names replace the ones in force; absent ones stay (reference 6.5). */
    private static void refresh(WorkerConnection c, List<String> queues, List<String> actionNames, List<Frames.ModelCapability> models) {
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
        return models == null ? List.of() : models.stream().filter(m -> m != null && m.provider() != null && m.model() != null)
                .map(m -> new JobQueue.Model(m.provider(), m.model())).toList();
    }

    private void heartbeat(WorkerConnection c, Frames.Heartbeat hb) {
        if (hb.jobId() == null || hb.leaseToken() == null) {
            invalid(c, hb.messageId(), "job.heartbeat needs job_id and lease_token");
            return;
        }
        touch(c, null, false);
        JobQueue.Beat beat = queue.heartbeat(hb.jobId(), hb.leaseToken());
        if (!beat.ok()) {
            send(c, new Frames.Error(hb.messageId(), new Frames.ProtocolError("lease_lost",
                    "job \"" + hb.jobId() + "\" is not leased with this token")));
            return;
        }
        Frames.CancelDirective cancel = beat.cancelRequestedAt() == null ? null
                : new Frames.CancelDirective(hb.jobId(), beat.cancelReason(), beat.cancelRequestedAt().atZoneSameInstant(ZoneOffset.UTC).toInstant().toString());
        send(c, new Frames.HeartbeatAck(hb.messageId(), hb.jobId(), cancel));
    }

    private void report(WorkerConnection c, Frames.Report r) {
        if (r.jobId() == null || r.leaseToken() == null) {
            invalid(c, r.messageId(), "job.report needs job_id and lease_token");
            return;
        }
        if (r.status() != null && !List.of("completed", "failed", "cancelled").contains(r.status())) {
            invalid(c, r.messageId(), "status must be completed, failed or cancelled");
            return;
        }
        PendingReport p = new PendingReport(c, r);
        if (!reports.offer(p)) {
            process(List.of(p)); // backlog full: write it on this thread rather than drop it
        }
    }

    private record PendingReport(WorkerConnection connection, Frames.Report report) {}

    private void writeReports() {
        List<PendingReport> batch = new ArrayList<>(512);
        while (running || !reports.isEmpty()) {
            try {
                PendingReport first = reports.poll(200, TimeUnit.MILLISECONDS);
                if (first == null) {
                    continue;
                }
                batch.add(first);
                reports.drainTo(batch, 511);
                process(batch);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (RuntimeException e) {
                log.warn("report batch failed", e);
            } finally {
                batch.clear();
            }
        }
    }

    /** One transaction for the whole batch; if it fails, each report gets its own. */
    private void process(List<PendingReport> batch) {
        List<JobQueue.ReportOutcome> outcomes;
        try {
            outcomes = jdbi.inTransaction(h -> record(h, batch));
        } catch (RuntimeException e) {
            if (batch.size() == 1) {
                log.warn("report of job {} failed", batch.get(0).report().jobId(), e);
                Frames.Report r = batch.get(0).report();
                send(batch.get(0).connection(), new Frames.Error(r.messageId(), new Frames.ProtocolError("internal", "the report could not be recorded")));
                return;
            }
            for (PendingReport p : batch) {
                process(List.of(p));
            }
            return;
        }
        for (int i = 0; i < batch.size(); i++) {
            Frames.Report r = batch.get(i).report();
            WorkerConnection c = batch.get(i).connection();
            switch (outcomes.get(i)) {
                case RECORDED -> send(c, new Frames.ReportAck(r.messageId(), r.jobId(), null));
                case DUPLICATE -> send(c, new Frames.ReportAck(r.messageId(), r.jobId(), true));
                case LEASE_LOST -> send(c, new Frames.Error(r.messageId(), new Frames.ProtocolError("lease_lost",
                        "job \"" + r.jobId() + "\" is not leased with this token")));
                case NOT_FOUND -> send(c, new Frames.Error(r.messageId(), new Frames.ProtocolError("not_found", "job \"" + r.jobId() + "\" not found")));
            }
        }
    }

    /** The batch's reports in one statement, then each session's last job in one more. */
    private List<JobQueue.ReportOutcome> record(org.jdbi.v3.core.Handle h, List<PendingReport> batch) {
        List<JobQueue.ReportCommand> commands = new ArrayList<>(batch.size());
        for (PendingReport p : batch) {
            Frames.Report r = p.report();
            commands.add(new JobQueue.ReportCommand(r.jobId(), r.leaseToken(), r.status(), r.result(), r.errorType(), r.errorMessage()));
        }
        List<JobQueue.ReportOutcome> outcomes = queue.reportAll(h, commands);
        Map<String, String> lastJob = new java.util.LinkedHashMap<>();
        for (int i = 0; i < batch.size(); i++) {
            if (outcomes.get(i) == JobQueue.ReportOutcome.RECORDED && batch.get(i).connection().sessionId != null) {
                lastJob.put(batch.get(i).connection().sessionId, batch.get(i).report().jobId());
            }
        }
        if (!lastJob.isEmpty()) {
            h.createUpdate("""
                    UPDATE worker_sessions s SET last_job_id = v.job, last_activity_at = clock_timestamp()
                      FROM unnest(CAST(:sessions AS text[]), CAST(:jobs AS text[])) AS v(session, job) WHERE s.id = v.session""")
                    .bind("sessions", lastJob.keySet().toArray(new String[0])).bind("jobs", lastJob.values().toArray(new String[0]))
                    .execute();
        }
        return outcomes;
    }

    // ------------------------------------------------------------------ wake-ups

    private void wake(String projectId) {
        wokenProjects.add(projectId);
        synchronized (signal) {
            signal.notifyAll();
        }
    }

    private void dispatchLoop() {
        long lastPoll = System.nanoTime();
        while (running) {
            try {
                synchronized (signal) {
                    if (wokenProjects.isEmpty()) {
                        signal.wait(pollMillis);
                    }
                }
                List<String> woken = new ArrayList<>(wokenProjects);
                wokenProjects.removeAll(woken);
                boolean poll = System.nanoTime() - lastPoll >= pollMillis * 1_000_000L;
                if (poll) {
                    lastPoll = System.nanoTime();
                }
                for (WorkerConnection c : connections) {
                    if (c.sessionId == null) {
                        continue;
                    }
                    boolean projectWoken = woken.contains(c.projectId);
                    if (c.parked != null && (poll || projectWoken)) {
                        tryClaim(c);
                    } else if (c.parked == null && projectWoken && System.nanoTime() - c.lastNudgeNanos > 500_000_000L) {
                        // An idle worker with no outstanding claim: tell it to ask.
                        c.lastNudgeNanos = System.nanoTime();
                        send(c, new Frames.WorkAvailable());
                    }
                }
                dispatchFailures.succeeded();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (RuntimeException e) {
                // While the database is lost, a pass is tried again every second and logged once.
                if (dispatchFailures.databaseLost(e)) {
                    sleepQuietly(1000);
                } else {
                    log.warn("worker dispatch pass failed", e);
                    sleepQuietly(200);
                }
            }
        }
    }

    private void listen() {
        while (running) {
            try (Connection c = dataSource.getConnection()) {
                c.setAutoCommit(true);
                try (Statement st = c.createStatement()) {
                    st.execute("LISTEN " + JobQueue.CHANNEL);
                }
                listenerFailures.succeeded();
                PGConnection pg = c.unwrap(PGConnection.class);
                while (running) {
                    PGNotification[] notifications = pg.getNotifications(500);
                    if (notifications != null) {
                        for (PGNotification n : notifications) {
                            String payload = n.getParameter();
                            if (payload.startsWith("w:")) {
                                wake(payload.substring(2));
                            } else if (payload.startsWith("c:")) {
                                pushCancel(payload.substring(2));
                            }
                        }
                    }
                }
            } catch (SQLException | RuntimeException e) {
                if (running) {
                    if (!listenerFailures.databaseLost(e)) {
                        log.warn("job listener lost its connection; reconnecting: {}", e.getMessage());
                    }
                    sleepQuietly(1000);
                }
            }
        }
    }

    private void pushCancel(String jobId) {
        queue.cancelTarget(jobId).ifPresent(t -> {
            WorkerConnection c = t.sessionId() == null ? null : bySession.get(t.sessionId());
            if (c != null) {
                send(c, new Frames.JobCancel("msg_" + UUID.randomUUID(), jobId, t.reason(),
                        t.requestedAt() == null ? null : t.requestedAt().toInstant().toString()));
            }
        });
    }

    private void sweep() {
        try {
            queue.sweepExpiredLeases(200);
        } catch (RuntimeException e) {
            log.warn("lease sweep failed: {}", e.getMessage());
        }
    }

    private void keepalive() {
        for (WorkerConnection c : connections) {
            send(c, new Frames.Keepalive("msg_" + UUID.randomUUID()));
        }
    }

    /** A revoked or expired key, or a disabled principal, ends the socket it opened. */
    private void recheckCredentials() {
        for (WorkerConnection c : connections) {
            if (!credentialValid(c)) {
                fatal(c, null, "invalid_actor", "the credential of this socket is no longer valid");
            }
        }
    }

    private boolean credentialValid(WorkerConnection c) {
        try {
            authenticator.authenticate(c.authorization, null, null, null);
            return true;
        } catch (ApiException e) {
            return false;
        } catch (RuntimeException e) {
            return true; // a database hiccup is not a revocation
        }
    }

    private void touch(WorkerConnection c, Frames.Claim claim, boolean force) {
        long now = System.nanoTime();
        boolean filters = claim != null && (claim.queues() != null || claim.actionNames() != null || claim.models() != null);
        if (now - c.lastTouchNanos > 2_000_000_000L || (force && filters && now - c.lastTouchNanos > 200_000_000L)) {
            c.lastTouchNanos = now;
            sessions.touch(c.sessionId, claim);
        }
    }

    // ------------------------------------------------------------------ sending

    private void send(WorkerConnection c, Frames.Frame frame) {
        try {
            c.sendText(Frames.write(frames, frame));
        } catch (RuntimeException e) {
            log.debug("send to {} failed: {}", c.id, e.getMessage());
        }
    }

    private void invalid(WorkerConnection c, String messageId, String message) {
        send(c, new Frames.Error(messageId, new Frames.ProtocolError("invalid_frame", message)));
    }

    /** Fatal register errors close the socket: some SDKs only log error frames and would wait forever. */
    private void fatal(WorkerConnection c, String messageId, String code, String message) {
        send(c, new Frames.Error(messageId, new Frames.ProtocolError(code, message)));
        c.close(1008, code); // 1008: policy violation
    }

    private String messageId(String text) {
        try {
            JsonNode node = frames.readTree(text);
            return node != null && node.path("message_id").isTextual() ? node.get("message_id").asText() : null;
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

    /** Shutdown: tell every worker to drain, give them a moment to go, then close what is left. */
    @Override
    public void close() {
        for (WorkerConnection c : connections) {
            send(c, new Frames.Drain("msg_" + UUID.randomUUID()));
        }
        long deadline = System.nanoTime() + Long.getLong("mobius.workers.drain-ms", 1000L) * 1_000_000L;
        while (!connections.isEmpty() && System.nanoTime() < deadline) {
            sleepQuietly(50);
        }
        for (WorkerConnection c : connections) {
            c.close(WebSocket.END_POINT_GOING_DOWN, "server shutting down");
        }
        running = false;
        WebSocketEngine.getEngine().unregister(this);
        timers.shutdownNow();
        framePool.shutdown();
        synchronized (signal) {
            signal.notifyAll();
        }
        for (Thread t : new Thread[] {dispatcher, listener, reportWriter}) {
            if (t != null) {
                try {
                    t.join(2000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
    }
}
