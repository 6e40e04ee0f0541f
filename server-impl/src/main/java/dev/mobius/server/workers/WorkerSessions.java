package dev.mobius.server.workers;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mobius.api.model.WorkerSession;
import dev.mobius.api.model.WorkerSessionJobRef;
import dev.mobius.api.model.WorkerSessionListResponse;
import dev.mobius.api.model.WorkerSessionTotals;
import dev.mobius.api.model.WorkerSocketModelCapability;
import dev.mobius.server.access.ApiKeySecrets;
import dev.mobius.server.actions.WorkerActions;
import dev.mobius.server.ids.Ids;
import dev.mobius.server.jobs.JobDao;
import dev.mobius.server.tenancy.Caller;
import dev.mobius.server.tenancy.ProjectAccess;
import java.security.SecureRandom;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.jdbi.v3.core.Jdbi;

/**
 * Worker sessions: one row per project and worker instance, outliving connections. A session is
 * continued by presenting its token; without the token it can only be taken over once no live
 * connection (seen within {@link #TAKEOVER_SECONDS}) holds it.
 */
public final class WorkerSessions implements WorkerActions {
    static final int TAKEOVER_SECONDS = 60;
    static final int STALE_SECONDS = 120;
    /** How long the names a session advertised stay in the action catalogue after it was last seen. */
    static final int ADVERTISED_DAYS = 30;

    private static final TypeReference<List<String>> STRINGS = new TypeReference<>() {};
    private static final TypeReference<List<Map<String, String>>> MODELS = new TypeReference<>() {};

    private final Jdbi jdbi;
    private final Ids ids;
    private final ObjectMapper mapper;
    private final SecureRandom random = new SecureRandom();

    public WorkerSessions(Jdbi jdbi, Ids ids, ObjectMapper mapper) {
        this.jdbi = jdbi;
        this.ids = ids;
        this.mapper = mapper;
    }

    /** Outcome of a register: the session and its token, or a conflict. */
    public record Registration(String sessionId, String token, boolean conflict) {}

    public Registration register(Caller caller, String projectId, String connectionId, Frames.Register r) {
        return jdbi.inTransaction(h -> {
            // Serialises registers of one instance id across nodes (the row may not exist yet).
            h.execute(WorkerSessionDao.REGISTER_LOCK, projectId + "/" + r.workerInstanceId());
            Optional<Map<String, Object>> row = h.createQuery(WorkerSessionDao.FIND_FOR_REGISTER)
                    .bind("project", projectId)
                    .bind("instance", r.workerInstanceId())
                    .bind("takeover", TAKEOVER_SECONDS)
                    .mapToMap()
                    .findOne();
            boolean tokenOk = row.isPresent()
                    && r.workerSessionToken() != null
                    && java.security.MessageDigest.isEqual(ApiKeySecrets.sha256(r.workerSessionToken()), (byte[])
                            row.get().get("token_sha256"));
            if (row.isPresent()
                    && !tokenOk
                    && row.get().get("connection_id") != null
                    && Boolean.TRUE.equals(row.get().get("live"))
                    && !connectionId.equals(row.get().get("connection_id"))) {
                return new Registration(null, null, true);
            }
            String token = tokenOk ? r.workerSessionToken() : newToken();
            String id = row.map(m -> (String) m.get("id")).orElseGet(() -> ids.next("wsess"));
            int concurrency = r.concurrencyLimit() == null ? 1 : r.concurrencyLimit();
            h.createUpdate(WorkerSessionDao.UPSERT)
                    .bind("id", id)
                    .bind("org", caller.orgId())
                    .bind("project", projectId)
                    .bind("instance", r.workerInstanceId())
                    .bind("hash", ApiKeySecrets.sha256(token))
                    .bind("principal", caller.principalId())
                    .bind("key", caller.keyId())
                    .bind("name", r.name())
                    .bind("version", r.version())
                    .bind("env", r.environmentId())
                    .bind("concurrency", concurrency)
                    .bind("caps", json(orEmpty(r.capabilities())))
                    .bind("queues", json(orEmpty(r.queues())))
                    .bind("actions", json(orEmpty(r.actionNames())))
                    .bind("models", json(r.models() == null ? List.of() : r.models()))
                    .bind("schemas", json(schemas(r.actionInputSchemas())))
                    .bind("conn", connectionId)
                    .execute();
            return new Registration(id, token, false);
        });
    }

    /** The claim's filters refresh the session's advertisement. */
    public void touch(String sessionId, Frames.Claim claim) {
        jdbi.useHandle(h -> h.createUpdate(WorkerSessionDao.TOUCH)
                .bind("id", sessionId)
                .bind("queues", claim == null || claim.queues() == null ? null : json(claim.queues()))
                .bind("actions", claim == null || claim.actionNames() == null ? null : json(claim.actionNames()))
                .bind("models", claim == null || claim.models() == null ? null : json(claim.models()))
                .execute());
    }

    /** A {@code worker.ready}: the session was seen, and the names (and schemas) it sends replace those in force. */
    public void ready(String sessionId, Frames.Ready ready) {
        jdbi.useHandle(h -> h.createUpdate(WorkerSessionDao.READY)
                .bind("id", sessionId)
                .bind("queues", ready.queues() == null ? null : json(ready.queues()))
                .bind("actions", ready.actionNames() == null ? null : json(ready.actionNames()))
                .bind("schemas", ready.actionInputSchemas() == null ? null : json(schemas(ready.actionInputSchemas())))
                .bind("models", ready.models() == null ? null : json(ready.models()))
                .execute());
    }

    // ---- the catalogue's worker actions -----------------------------------------------------

    @Override
    public List<Advertised> advertised(org.jdbi.v3.core.Handle h, String projectId) {
        return h.createQuery(String.format(WorkerSessionDao.ADVERTISED, ""))
                .bind("project", projectId)
                .bind("stale", STALE_SECONDS)
                .bind("days", ADVERTISED_DAYS)
                .map((rs, ctx) -> advertised(rs))
                .list();
    }

    @Override
    public Optional<Advertised> advertised(org.jdbi.v3.core.Handle h, String projectId, String name) {
        return h.createQuery(String.format(WorkerSessionDao.ADVERTISED, "AND a.name = :name"))
                .bind("project", projectId)
                .bind("stale", STALE_SECONDS)
                .bind("days", ADVERTISED_DAYS)
                .bind("name", name)
                .map((rs, ctx) -> advertised(rs))
                .findOne();
    }

    private Advertised advertised(java.sql.ResultSet rs) throws java.sql.SQLException {
        String schema = rs.getString("input_schema");
        try {
            return new Advertised(
                    rs.getString("name"),
                    schema == null ? null : mapper.readTree(schema),
                    rs.getObject("last_seen_at", OffsetDateTime.class),
                    rs.getBoolean("live"));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Only object schemas are kept: anything else a worker sends under a name is ignored. */
    private static Map<String, Object> schemas(Map<String, Object> sent) {
        Map<String, Object> kept = new java.util.TreeMap<>();
        if (sent != null) {
            sent.forEach((name, schema) -> {
                if (name != null && schema instanceof Map<?, ?>) {
                    kept.put(name, schema);
                }
            });
        }
        return kept;
    }

    public void setDraining(String sessionId) {
        jdbi.useHandle(h -> h.execute(WorkerSessionDao.SET_DRAINING, sessionId));
    }

    public void setLastJob(String sessionId, String jobId) {
        jdbi.useHandle(h -> h.execute(WorkerSessionDao.SET_LAST_JOB, jobId, sessionId));
    }

    /** The last job of each session ({@code session id -> job id}) in one statement, in the caller's transaction. */
    void lastJobs(org.jdbi.v3.core.Handle h, Map<String, String> jobBySession) {
        h.createUpdate(WorkerSessionDao.LAST_JOBS)
                .bind("sessions", jobBySession.keySet().toArray(new String[0]))
                .bind("jobs", jobBySession.values().toArray(new String[0]))
                .execute();
    }

    /** A connection closed: the session is free for another connection at once. */
    public void disconnected(String sessionId, String connectionId) {
        jdbi.useHandle(h -> h.execute(WorkerSessionDao.DISCONNECTED, sessionId, connectionId));
    }

    public WorkerSessionListResponse list(Caller caller, String projectRef) {
        return jdbi.inTransaction(h -> {
            String projectId = ProjectAccess.require(h, caller, projectRef).id();
            List<Map<String, Object>> rows = h.createQuery(WorkerSessionDao.LIST)
                    .bind("project", projectId)
                    .bind("stale", STALE_SECONDS)
                    .mapToMap()
                    .list();
            Map<String, List<WorkerSessionJobRef>> held = new HashMap<>();
            Map<String, WorkerSessionJobRef> byId = new HashMap<>();
            h.createQuery(JobDao.HELD_OR_LAST)
                    .bind("project", projectId)
                    .mapToMap()
                    .forEach(j -> {
                        WorkerSessionJobRef ref = new WorkerSessionJobRef()
                                .id((String) j.get("id"))
                                .runId(String.valueOf(j.getOrDefault("run_id", "")))
                                .stepName(String.valueOf(j.getOrDefault("step_key", "")))
                                .action(String.valueOf(j.getOrDefault("action_name", "")))
                                .status(WorkerSessionJobRef.StatusEnum.fromValue((String) j.get("status")))
                                .claimedAt(ts(j.get("claimed_at")))
                                .heartbeatAt(ts(j.get("heartbeat_at")))
                                .updatedAt(ts(j.get("updated_at")));
                        byId.put(ref.getId(), ref);
                        if ("claimed".equals(j.get("status")) && j.get("worker_session_id") != null) {
                            held.computeIfAbsent((String) j.get("worker_session_id"), k -> new ArrayList<>())
                                    .add(ref);
                        }
                    });
            List<WorkerSession> items = new ArrayList<>();
            int active = 0, slots = 0, busy = 0, stale = 0;
            for (Map<String, Object> s : rows) {
                boolean isStale = Boolean.TRUE.equals(s.get("is_stale"));
                List<WorkerSessionJobRef> jobs = held.getOrDefault((String) s.get("id"), List.of());
                WorkerSession w = new WorkerSession()
                        .id((String) s.get("id"))
                        .workerInstanceId((String) s.get("worker_instance_id"))
                        .concurrencyLimit(((Number) s.get("concurrency_limit")).intValue())
                        .name((String) s.get("name"))
                        .version((String) s.get("version"))
                        .lastSeenAt(ts(s.get("last_seen_at")))
                        .lastActivityAt(ts(s.get("last_activity_at")))
                        .capabilities(strings(s.get("capabilities")))
                        .queues(strings(s.get("queues")))
                        .actionNames(strings(s.get("action_names")))
                        .models(models(s.get("models")))
                        .principalId((String) s.get("principal_id"))
                        .apiKeyId((String) s.get("api_key_id"))
                        .environmentId((String) s.get("environment_id"))
                        .instanceStatus(
                                isStale
                                        ? WorkerSession.InstanceStatusEnum.STALE
                                        : Boolean.TRUE.equals(s.get("draining"))
                                                ? WorkerSession.InstanceStatusEnum.DRAINING
                                                : WorkerSession.InstanceStatusEnum.ACTIVE)
                        .stale(isStale)
                        .busyJobCount(jobs.size())
                        .currentJobs(new ArrayList<>(jobs))
                        .lastJob(s.get("last_job_id") == null ? null : byId.get((String) s.get("last_job_id")));
                items.add(w);
                if (isStale) {
                    stale++;
                } else {
                    active++;
                    slots += w.getConcurrencyLimit();
                    busy += jobs.size();
                }
            }
            return new WorkerSessionListResponse()
                    .items(items)
                    .totals(new WorkerSessionTotals()
                            .activeInstances(active)
                            .slots(slots)
                            .busy(busy)
                            .stale(stale));
        });
    }

    private String newToken() {
        byte[] bytes = new byte[24];
        random.nextBytes(bytes);
        return "wst_" + Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    private static List<String> orEmpty(List<String> values) {
        return values == null ? List.of() : values;
    }

    private static OffsetDateTime ts(Object value) {
        if (value == null) {
            return null;
        }
        if (value instanceof OffsetDateTime o) {
            return o;
        }
        if (value instanceof java.sql.Timestamp t) {
            return t.toInstant().atOffset(java.time.ZoneOffset.UTC);
        }
        return OffsetDateTime.parse(value.toString());
    }

    private List<String> strings(Object json) {
        try {
            return json == null ? new ArrayList<>() : new ArrayList<>(mapper.readValue(json.toString(), STRINGS));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private List<WorkerSocketModelCapability> models(Object json) {
        try {
            List<WorkerSocketModelCapability> out = new ArrayList<>();
            if (json != null) {
                for (Map<String, String> m : mapper.readValue(json.toString(), MODELS)) {
                    out.add(new WorkerSocketModelCapability()
                            .provider(m.get("provider"))
                            .model(m.get("model")));
                }
            }
            return out;
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private String json(Object value) {
        try {
            return mapper.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(e);
        }
    }
}
