package dev.mobius.server.jobs;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mobius.server.ids.Ids;
import dev.mobius.server.tracing.TraceContext;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;

/**
 * The job table as a queue. Pending jobs are claimed oldest first with {@code FOR UPDATE SKIP
 * LOCKED}, so any number of nodes claim concurrently without handing a job out twice. Every claim
 * stamps a fresh lease token; heartbeats and reports must present it (fencing), and a lease that
 * runs out puts the job back (or fails it after {@code maxAttempts} claims). New work and
 * cancellations are announced with a {@code NOTIFY} on {@link #CHANNEL} from the enqueuing
 * transaction, so every node hears about them at commit.
 */
public final class JobQueue implements JobDispatch {
    public static final String CHANNEL = "mobius_jobs";
    private static final TypeReference<Map<String, Object>> MAP = new TypeReference<>() {};

    private final Jdbi jdbi;
    private final Ids ids;
    private final ObjectMapper mapper;
    private final JobOutcomes outcomes;
    private final int leaseSeconds;
    private final int heartbeatSeconds;
    private final int maxAttempts;
    private volatile Observer observer = Observer.NONE;

    /** Told of claims and lease expiries (for metrics), after their transaction committed. */
    public interface Observer {
        Observer NONE = new Observer() {};

        /** A job of {@code queue} was claimed {@code waitedMillis} after it was queued. */
        default void claimed(String queue, long waitedMillis) {}

        /** A lease of a job of {@code queue} ran out without a report. */
        default void leaseExpired(String queue) {}
    }

    public JobQueue(
            Jdbi jdbi,
            Ids ids,
            ObjectMapper mapper,
            JobOutcomes outcomes,
            int leaseSeconds,
            int heartbeatSeconds,
            int maxAttempts) {
        this.jdbi = jdbi;
        this.ids = ids;
        this.mapper = mapper;
        this.outcomes = outcomes;
        this.leaseSeconds = leaseSeconds;
        this.heartbeatSeconds = heartbeatSeconds;
        this.maxAttempts = maxAttempts;
    }

    /** Set once by the wiring, before workers connect. */
    public void observe(Observer observer) {
        this.observer = observer;
    }

    public int leaseSeconds() {
        return leaseSeconds;
    }

    public int heartbeatSeconds() {
        return heartbeatSeconds;
    }

    public Jdbi jdbi() {
        return jdbi;
    }

    @Override
    public String enqueue(Handle h, JobRequest r) {
        String id = ids.next("job");
        Map<String, Object> spec = new java.util.LinkedHashMap<>();
        if ("llm_generation".equals(r.kind())) {
            spec.putAll(r.parameters() == null ? Map.of() : r.parameters()); // the generation request itself
        } else {
            spec.put("parameters", r.parameters() == null ? Map.of() : r.parameters());
        }
        h.createUpdate(JobDao.INSERT)
                .bind("kind", r.kind() == null ? "action_execution" : r.kind())
                .bind("env", r.environmentId())
                .bind("provider", r.provider())
                .bind("model", r.model())
                .bind("id", id)
                .bind("org", r.orgId())
                .bind("project", r.projectId())
                .bind("run", r.runId())
                .bind("step", r.stepKey())
                .bind("inv", r.invocationId())
                .bind("action", r.actionName())
                .bind("queue", r.queue() == null || r.queue().isBlank() ? "default" : r.queue())
                .bind("caps", json(r.requiredCapabilities() == null ? List.of() : r.requiredCapabilities()))
                .bind("spec", json(spec))
                .bind("timeout", r.timeoutSeconds())
                .bind("max", maxAttempts)
                .bind(
                        "origin",
                        r.agent() == null ? "automation_action_step" : r.agent().origin())
                .bind("session", r.agent() == null ? null : r.agent().sessionId())
                .bind("turn", r.agent() == null ? null : r.agent().agentTurnId())
                .bind("toolcall", r.agent() == null ? null : r.agent().toolCallId())
                .bind(
                        "executor",
                        r.agent() == null ? "customer_worker" : r.agent().executorKind())
                // The worker that claims it continues the trace of the request or run step queueing it.
                .bind("traceparent", TraceContext.current())
                .execute();
        if (r.agent() == null || !"server_worker".equals(r.agent().executorKind())) {
            h.execute(JobDao.NOTIFY, CHANNEL, "w:" + r.projectId());
        }
        return id;
    }

    @Override
    public void cancel(Handle h, String jobId, String reason) {
        // A pending job simply ends; a claimed one keeps its lease until the worker reports, and is told.
        int pending = h.createUpdate(JobDao.CANCEL_PENDING)
                .bind("id", jobId)
                .bind("reason", reason)
                .execute();
        if (pending == 0) {
            int claimed = h.createUpdate(JobDao.CANCEL_CLAIMED)
                    .bind("id", jobId)
                    .bind("reason", reason)
                    .execute();
            if (claimed > 0) {
                h.execute(JobDao.NOTIFY, CHANNEL, "c:" + jobId);
            }
        }
    }

    /** A (provider, model) a worker can generate with. */
    public record Model(String provider, String model) {}

    /**
     * What a worker claims with (reference 6.5 and 4.7). Empty queues or action names mean "any";
     * a job's required capabilities must all be among {@code capabilities}; a generation job needs
     * its (provider, model) among {@code models}; a job pinned to an environment needs a worker
     * registered in that environment ({@code environmentId}), while unpinned jobs go to any worker.
     */
    public record Filter(
            List<String> queues,
            List<String> actionNames,
            List<String> capabilities,
            List<Model> models,
            String environmentId) {
        public Filter(List<String> queues, List<String> actionNames, List<String> capabilities) {
            this(queues, actionNames, capabilities, List.of(), null);
        }
    }

    /** A job handed out under a lease. */
    public record Leased(
            String id,
            String kind,
            String origin,
            String queue,
            String actionName,
            String runId,
            String stepKey,
            Map<String, Object> spec,
            String leaseToken,
            int claimAttempt,
            String environmentId,
            String provider,
            String model,
            String sessionId,
            String agentTurnId,
            String toolCallId,
            String traceparent) {}

    /** Claims up to {@code limit} eligible jobs of the project for the session, in one transaction. */
    public List<Leased> claim(String projectId, String sessionId, int limit, Filter f) {
        if (limit <= 0) {
            return List.of();
        }
        List<Map.Entry<String, Long>> waits = new ArrayList<>();
        List<Leased> leased = jdbi.inTransaction(h -> {
            return h
                    .createQuery(JobDao.CLAIM)
                    .bind("project", projectId)
                    .bind("session", sessionId)
                    .bind("limit", limit)
                    .bind("lease", leaseSeconds)
                    .bind(
                            "queues",
                            f.queues() == null ? new String[0] : f.queues().toArray(new String[0]))
                    .bind(
                            "actions",
                            f.actionNames() == null
                                    ? new String[0]
                                    : f.actionNames().toArray(new String[0]))
                    .bind("caps", json(f.capabilities() == null ? List.of() : f.capabilities()))
                    .bind("models", json(f.models() == null ? List.of() : f.models()))
                    .bind("env", f.environmentId())
                    .map((rs, ctx) -> {
                        java.sql.Timestamp queued = rs.getTimestamp("created_at");
                        waits.add(Map.entry(
                                rs.getString("queue"),
                                queued == null ? 0 : Math.max(0, System.currentTimeMillis() - queued.getTime())));
                        return new Leased(
                                rs.getString("id"),
                                rs.getString("kind"),
                                rs.getString("origin"),
                                rs.getString("queue"),
                                rs.getString("action_name"),
                                rs.getString("run_id"),
                                rs.getString("step_key"),
                                map(rs.getString("spec")),
                                rs.getString("lease_token"),
                                rs.getInt("claim_attempt"),
                                rs.getString("environment_id"),
                                rs.getString("provider"),
                                rs.getString("model"),
                                rs.getString("session_id"),
                                rs.getString("agent_turn_id"),
                                rs.getString("tool_call_id"),
                                rs.getString("traceparent"));
                    })
                    .list()
                    .stream()
                    .sorted(java.util.Comparator.comparing(Leased::id))
                    .toList();
        });
        waits.forEach(w -> observer.claimed(w.getKey(), w.getValue()));
        return leased;
    }

    /** A cancellation pending on a held job, or empty; the heartbeat itself failing means the lease is lost. */
    public record Beat(boolean ok, String cancelReason, java.time.OffsetDateTime cancelRequestedAt) {}

    public Beat heartbeat(String jobId, String leaseToken) {
        return jdbi.withHandle(h -> h.createQuery(JobDao.HEARTBEAT)
                .bind("id", jobId)
                .bind("token", leaseToken)
                .bind("lease", leaseSeconds)
                .map((rs, ctx) -> new Beat(true, rs.getString(1), rs.getObject(2, java.time.OffsetDateTime.class)))
                .findOne()
                .orElse(new Beat(false, null, null)));
    }

    public enum ReportOutcome {
        RECORDED,
        DUPLICATE,
        LEASE_LOST,
        NOT_FOUND
    }

    public record ReportCommand(
            String jobId,
            String leaseToken,
            String status,
            Map<String, Object> result,
            String errorType,
            String errorMessage) {}

    /**
     * Records one report inside the caller's transaction and hands the outcome to the invocation
     * ({@link JobOutcomes}) in the same transaction. A cancelled job reports nothing to the
     * invocation: whoever cancelled it already settled it.
     */
    public ReportOutcome report(Handle h, ReportCommand r) {
        return reportAll(h, List.of(r)).get(0);
    }

    /**
     * Records many reports in the caller's transaction with one statement (reports arriving
     * together from many workers), then hands each recorded outcome to its invocation as
     * {@link #report} does. Outcomes are in the order of {@code reports}; the same report twice in
     * one batch is recorded once and the repeat is a duplicate.
     */
    public List<ReportOutcome> reportAll(Handle h, List<ReportCommand> reports) {
        int n = reports.size();
        String[] ids = new String[n];
        String[] tokens = new String[n];
        String[] statuses = new String[n];
        String[] results = new String[n];
        String[] etypes = new String[n];
        String[] emsgs = new String[n];
        for (int i = 0; i < n; i++) {
            ReportCommand r = reports.get(i);
            ids[i] = r.jobId();
            tokens[i] = r.leaseToken();
            statuses[i] = r.status() == null ? "completed" : r.status();
            results[i] = r.result() == null ? null : json(r.result());
            etypes[i] = r.errorType();
            emsgs[i] = r.errorMessage();
        }
        record Done(String token, String invocation, boolean cancelled, String turnRun) {}
        Map<String, Done> done = new java.util.HashMap<>();
        // DISTINCT ON: a job named twice in the batch is updated by its first report only.
        h.createQuery(JobDao.REPORT_ALL)
                .bind("ids", ids)
                .bind("tokens", tokens)
                .bind("statuses", statuses)
                .bind("results", results)
                .bind("etypes", etypes)
                .bind("emsgs", emsgs)
                .map((rs, ctx) -> Map.entry(
                        rs.getString(1), new Done(rs.getString(2), rs.getString(3), rs.getBoolean(4), rs.getString(5))))
                .forEach(e -> done.put(e.getKey(), e.getValue()));
        List<ReportOutcome> out = new ArrayList<>(Collections.nCopies(n, (ReportOutcome) null));
        List<Integer> rest = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            ReportCommand r = reports.get(i);
            Done d = done.get(r.jobId());
            if (d != null && d.token().equals(r.leaseToken())) {
                done.remove(r.jobId()); // a repeat later in the batch is answered below as a duplicate
                out.set(i, ReportOutcome.RECORDED);
                if (d.turnRun() != null) {
                    outcomes.turnEnded(h, d.turnRun());
                }
                if (!d.invocation().isEmpty() && !d.cancelled()) {
                    if ("completed".equals(statuses[i])) {
                        outcomes.completed(h, d.invocation(), r.result() == null ? Map.of() : r.result());
                    } else if ("failed".equals(statuses[i])) {
                        outcomes.failed(
                                h,
                                d.invocation(),
                                r.errorType() == null ? "Error" : r.errorType(),
                                r.errorMessage() == null ? "" : r.errorMessage(),
                                false);
                    } else {
                        outcomes.failed(
                                h,
                                d.invocation(),
                                "Cancelled",
                                r.errorMessage() == null ? "job cancelled" : r.errorMessage(),
                                false);
                    }
                }
            } else {
                rest.add(i);
            }
        }
        if (!rest.isEmpty()) {
            Map<String, String[]> current = new java.util.HashMap<>();
            h.createQuery(JobDao.STATES)
                    .bind("ids", rest.stream().map(i -> ids[i]).distinct().toArray(String[]::new))
                    .map((rs, ctx) -> new String[] {rs.getString(1), rs.getString(2), rs.getString(3)})
                    .forEach(row -> current.put(row[0], row));
            for (int i : rest) {
                String[] row = current.get(ids[i]);
                if (row == null) {
                    out.set(i, ReportOutcome.NOT_FOUND);
                } else {
                    boolean terminal = !"pending".equals(row[1]) && !"claimed".equals(row[1]);
                    out.set(
                            i,
                            terminal && tokens[i].equals(row[2]) ? ReportOutcome.DUPLICATE : ReportOutcome.LEASE_LOST);
                }
            }
        }
        return out;
    }

    /** Projects whose jobs went back to the queue, so their parked claims can be retried. */
    public List<String> sweepExpiredLeases(int batch) {
        return jdbi.inTransaction(h -> {
            List<Map<String, Object>> expired = h.createQuery(JobDao.EXPIRED_LEASES)
                    .bind("batch", batch)
                    .mapToMap()
                    .list();
            List<String> projects = new ArrayList<>();
            for (Map<String, Object> j : expired) {
                String id = (String) j.get("id");
                boolean cancelled = (Boolean) j.get("cancelled");
                int attempt = ((Number) j.get("claim_attempt")).intValue();
                int max = ((Number) j.get("max_attempts")).intValue();
                String turnRun = (String) j.get("turn_run_id");
                String queue = (String) j.get("queue");
                h.afterCommit(() -> observer.leaseExpired(queue));
                if (cancelled) {
                    h.execute(JobDao.EXPIRE_CANCELLED, id);
                    if (turnRun != null) {
                        outcomes.turnEnded(h, turnRun);
                    }
                } else if (attempt >= max) {
                    h.execute(JobDao.EXPIRE_FAILED, id);
                    if (turnRun != null) {
                        outcomes.turnEnded(h, turnRun);
                    }
                    if (j.get("invocation_id") != null) {
                        outcomes.failed(
                                h,
                                (String) j.get("invocation_id"),
                                "LeaseExpired",
                                "the lease expired " + attempt + " times without a report",
                                false);
                    }
                } else {
                    // Back to the queue: the old token dies with the lease, so a late report is refused.
                    h.execute(JobDao.EXPIRE_REQUEUE, id);
                    projects.add((String) j.get("project_id"));
                }
            }
            if (!projects.isEmpty()) {
                for (String p : new java.util.LinkedHashSet<>(projects)) {
                    h.execute(JobDao.NOTIFY, CHANNEL, "w:" + p);
                }
            }
            return projects;
        });
    }

    /** The session and reason a cancelled, still-held job must be told about. */
    public record CancelTarget(String jobId, String sessionId, String reason, java.time.OffsetDateTime requestedAt) {}

    public Optional<CancelTarget> cancelTarget(String jobId) {
        return jdbi.withHandle(h -> h.createQuery(JobDao.CANCEL_TARGET)
                .bind("id", jobId)
                .map((rs, ctx) -> new CancelTarget(
                        jobId, rs.getString(1), rs.getString(2), rs.getObject(3, java.time.OffsetDateTime.class)))
                .findOne());
    }

    private String json(Object value) {
        try {
            return mapper.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(e);
        }
    }

    private Map<String, Object> map(String json) {
        try {
            return json == null ? Map.of() : mapper.readValue(json, MAP);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
