package dev.mobius.server.workers;

import java.security.SecureRandom;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.jdbi.v3.core.Jdbi;

import dev.mobius.api.model.WorkerSession;
import dev.mobius.api.model.WorkerSessionJobRef;
import dev.mobius.api.model.WorkerSessionListResponse;
import dev.mobius.api.model.WorkerSessionTotals;
import dev.mobius.api.model.WorkerSocketModelCapability;
import dev.mobius.server.access.ApiKeySecrets;
import dev.mobius.server.access.Caller;
import dev.mobius.server.actions.WorkerActions;
import dev.mobius.server.http.Ids;
import dev.mobius.server.projects.ProjectAccess;

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
            h.execute("SELECT pg_advisory_xact_lock(hashtext(?))", projectId + "/" + r.workerInstanceId());
            Optional<Map<String, Object>> row = h.createQuery("""
                    SELECT id, token_sha256, connection_id, last_seen_at > clock_timestamp() - make_interval(secs => :takeover) AS live
                      FROM worker_sessions WHERE project_id = :project AND worker_instance_id = :instance""")
                    .bind("project", projectId).bind("instance", r.workerInstanceId()).bind("takeover", TAKEOVER_SECONDS)
                    .mapToMap().findOne();
            boolean tokenOk = row.isPresent() && r.workerSessionToken() != null
                    && java.security.MessageDigest.isEqual(ApiKeySecrets.sha256(r.workerSessionToken()), (byte[]) row.get().get("token_sha256"));
            if (row.isPresent() && !tokenOk && row.get().get("connection_id") != null && Boolean.TRUE.equals(row.get().get("live"))
                    && !connectionId.equals(row.get().get("connection_id"))) {
                return new Registration(null, null, true);
            }
            String token = tokenOk ? r.workerSessionToken() : newToken();
            String id = row.map(m -> (String) m.get("id")).orElseGet(() -> ids.next("wsess"));
            int concurrency = r.concurrencyLimit() == null ? 1 : r.concurrencyLimit();
            h.createUpdate("""
                    INSERT INTO worker_sessions (id, org_id, project_id, worker_instance_id, token_sha256, principal_id, api_key_id, name, version,
                                                 environment_id, concurrency_limit, capabilities, queues, action_names, action_input_schemas,
                                                 models, draining, connection_id, created_at, last_seen_at, last_activity_at)
                    VALUES (:id, :org, :project, :instance, :hash, :principal, :key, :name, :version, :env, :concurrency,
                            CAST(:caps AS jsonb), CAST(:queues AS jsonb), CAST(:actions AS jsonb), CAST(:schemas AS jsonb),
                            CAST(:models AS jsonb), false, :conn, clock_timestamp(), clock_timestamp(), clock_timestamp())
                    ON CONFLICT (project_id, worker_instance_id) DO UPDATE SET
                        token_sha256 = excluded.token_sha256, principal_id = excluded.principal_id, api_key_id = excluded.api_key_id,
                        name = excluded.name, version = excluded.version, environment_id = excluded.environment_id,
                        concurrency_limit = excluded.concurrency_limit, capabilities = excluded.capabilities, queues = excluded.queues,
                        action_names = excluded.action_names, action_input_schemas = excluded.action_input_schemas,
                        models = excluded.models, draining = false,
                        connection_id = excluded.connection_id, last_seen_at = excluded.last_seen_at, last_activity_at = excluded.last_activity_at""")
                    .bind("id", id).bind("org", caller.orgId()).bind("project", projectId).bind("instance", r.workerInstanceId())
                    .bind("hash", ApiKeySecrets.sha256(token)).bind("principal", caller.principalId()).bind("key", caller.keyId())
                    .bind("name", r.name()).bind("version", r.version()).bind("env", r.environmentId()).bind("concurrency", concurrency)
                    .bind("caps", json(orEmpty(r.capabilities()))).bind("queues", json(orEmpty(r.queues())))
                    .bind("actions", json(orEmpty(r.actionNames()))).bind("models", json(r.models() == null ? List.of() : r.models()))
                    .bind("schemas", json(schemas(r.actionInputSchemas())))
                    .bind("conn", connectionId).execute();
            return new Registration(id, token, false);
        });
    }

    /** The claim's filters refresh the session's advertisement. */
    public void touch(String sessionId, Frames.Claim claim) {
        jdbi.useHandle(h -> h.createUpdate("""
                UPDATE worker_sessions SET last_seen_at = clock_timestamp(), last_activity_at = clock_timestamp(),
                       queues = coalesce(CAST(:queues AS jsonb), queues), action_names = coalesce(CAST(:actions AS jsonb), action_names),
                       models = coalesce(CAST(:models AS jsonb), models)
                 WHERE id = :id""")
                .bind("id", sessionId)
                .bind("queues", claim == null || claim.queues() == null ? null : json(claim.queues()))
                .bind("actions", claim == null || claim.actionNames() == null ? null : json(claim.actionNames()))
                .bind("models", claim == null || claim.models() == null ? null : json(claim.models()))
                .execute());
    }

    /** A {@code worker.ready}: the session was seen, and the names (and schemas) it sends replace those in force. */
    public void ready(String sessionId, Frames.Ready ready) {
        jdbi.useHandle(h -> h.createUpdate("""
                UPDATE worker_sessions SET last_seen_at = clock_timestamp(), last_activity_at = clock_timestamp(),
                       queues = coalesce(CAST(:queues AS jsonb), queues), action_names = coalesce(CAST(:actions AS jsonb), action_names),
                       action_input_schemas = coalesce(CAST(:schemas AS jsonb), action_input_schemas),
                       models = coalesce(CAST(:models AS jsonb), models)
                 WHERE id = :id""")
                .bind("id", sessionId)
                .bind("queues", ready.queues() == null ? null : json(ready.queues()))
                .bind("actions", ready.actionNames() == null ? null : json(ready.actionNames()))
                .bind("schemas", ready.actionInputSchemas() == null ? null : json(schemas(ready.actionInputSchemas())))
                .bind("models", ready.models() == null ? null : json(ready.models()))
                .execute());
    }

    // ---- the catalogue's worker actions -----------------------------------------------------

    private static final String ADVERTISED = """
            SELECT a.name, max(s.last_seen_at) AS last_seen_at,
                   max(s.last_seen_at) > clock_timestamp() - make_interval(secs => :stale) AS live,
                   CAST((array_agg(s.action_input_schemas -> a.name ORDER BY s.last_seen_at DESC)
                         FILTER (WHERE s.action_input_schemas -> a.name IS NOT NULL))[1] AS text) AS input_schema
              FROM worker_sessions s CROSS JOIN LATERAL jsonb_array_elements_text(s.action_names) AS a(name)
             WHERE s.project_id = :project AND s.last_seen_at > clock_timestamp() - make_interval(days => :days) %s
             GROUP BY a.name ORDER BY a.name""";

    @Override
    public List<Advertised> advertised(org.jdbi.v3.core.Handle h, String projectId) {
        return h.createQuery(String.format(ADVERTISED, "")).bind("project", projectId).bind("stale", STALE_SECONDS)
                .bind("days", ADVERTISED_DAYS).map((rs, ctx) -> advertised(rs)).list();
    }

    @Override
    public Optional<Advertised> advertised(org.jdbi.v3.core.Handle h, String projectId, String name) {
        return h.createQuery(String.format(ADVERTISED, "AND a.name = :name")).bind("project", projectId).bind("stale", STALE_SECONDS)
                .bind("days", ADVERTISED_DAYS).bind("name", name).map((rs, ctx) -> advertised(rs)).findOne();
    }

    private Advertised advertised(java.sql.ResultSet rs) throws java.sql.SQLException {
        String schema = rs.getString("input_schema");
        try {
            return new Advertised(rs.getString("name"), schema == null ? null : mapper.readTree(schema),
                    rs.getObject("last_seen_at", OffsetDateTime.class), rs.getBoolean("live"));
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
        jdbi.useHandle(h -> h.execute("UPDATE worker_sessions SET draining = true, last_activity_at = clock_timestamp() WHERE id = ?", sessionId));
    }

    public void setLastJob(String sessionId, String jobId) {
        jdbi.useHandle(h -> h.execute("UPDATE worker_sessions SET last_job_id = ?, last_activity_at = clock_timestamp() WHERE id = ?", jobId, sessionId));
    }

    /** The last job of each session ({@code session id -> job id}) in one statement, in the caller's transaction. */
    void lastJobs(org.jdbi.v3.core.Handle h, Map<String, String> jobBySession) {
        h.createUpdate("""
                UPDATE worker_sessions s SET last_job_id = v.job, last_activity_at = clock_timestamp()
                  FROM unnest(CAST(:sessions AS text[]), CAST(:jobs AS text[])) AS v(session, job) WHERE s.id = v.session""")
                .bind("sessions", jobBySession.keySet().toArray(new String[0])).bind("jobs", jobBySession.values().toArray(new String[0]))
                .execute();
    }

    /** A connection closed: the session is free for another connection at once. */
    public void disconnected(String sessionId, String connectionId) {
        jdbi.useHandle(h -> h.execute("UPDATE worker_sessions SET connection_id = NULL WHERE id = ? AND connection_id = ?", sessionId, connectionId));
    }

    public WorkerSessionListResponse list(Caller caller, String projectRef) {
        return jdbi.inTransaction(h -> {
            String projectId = ProjectAccess.require(h, caller, projectRef).id();
            List<Map<String, Object>> rows = h.createQuery("""
                    SELECT s.*, s.last_seen_at < clock_timestamp() - make_interval(secs => :stale) AS is_stale
                      FROM worker_sessions s WHERE project_id = :project ORDER BY last_seen_at DESC, id""")
                    .bind("project", projectId).bind("stale", STALE_SECONDS).mapToMap().list();
            Map<String, List<WorkerSessionJobRef>> held = new HashMap<>();
            Map<String, WorkerSessionJobRef> byId = new HashMap<>();
            h.createQuery("""
                    SELECT id, run_id, step_key, action_name, status, claimed_at, heartbeat_at, updated_at, worker_session_id
                      FROM jobs WHERE project_id = :project AND (
                            (status = 'claimed' AND worker_session_id IS NOT NULL)
                         OR id IN (SELECT last_job_id FROM worker_sessions WHERE project_id = :project AND last_job_id IS NOT NULL))
                     ORDER BY claimed_at, id""")
                    .bind("project", projectId).mapToMap().forEach(j -> {
                        WorkerSessionJobRef ref = new WorkerSessionJobRef().id((String) j.get("id"))
                                .runId(String.valueOf(j.getOrDefault("run_id", ""))).stepName(String.valueOf(j.getOrDefault("step_key", "")))
                                .action(String.valueOf(j.getOrDefault("action_name", "")))
                                .status(WorkerSessionJobRef.StatusEnum.fromValue((String) j.get("status")))
                                .claimedAt(ts(j.get("claimed_at"))).heartbeatAt(ts(j.get("heartbeat_at"))).updatedAt(ts(j.get("updated_at")));
                        byId.put(ref.getId(), ref);
                        if ("claimed".equals(j.get("status")) && j.get("worker_session_id") != null) {
                            held.computeIfAbsent((String) j.get("worker_session_id"), k -> new ArrayList<>()).add(ref);
                        }
                    });
            List<WorkerSession> items = new ArrayList<>();
            int active = 0, slots = 0, busy = 0, stale = 0;
            for (Map<String, Object> s : rows) {
                boolean isStale = Boolean.TRUE.equals(s.get("is_stale"));
                List<WorkerSessionJobRef> jobs = held.getOrDefault((String) s.get("id"), List.of());
                WorkerSession w = new WorkerSession().id((String) s.get("id")).workerInstanceId((String) s.get("worker_instance_id"))
                        .concurrencyLimit(((Number) s.get("concurrency_limit")).intValue()).name((String) s.get("name"))
                        .version((String) s.get("version")).lastSeenAt(ts(s.get("last_seen_at"))).lastActivityAt(ts(s.get("last_activity_at")))
                        .capabilities(strings(s.get("capabilities"))).queues(strings(s.get("queues"))).actionNames(strings(s.get("action_names")))
                        .models(models(s.get("models"))).principalId((String) s.get("principal_id")).apiKeyId((String) s.get("api_key_id"))
                        .environmentId((String) s.get("environment_id"))
                        .instanceStatus(isStale ? WorkerSession.InstanceStatusEnum.STALE
                                : Boolean.TRUE.equals(s.get("draining")) ? WorkerSession.InstanceStatusEnum.DRAINING : WorkerSession.InstanceStatusEnum.ACTIVE)
                        .stale(isStale).busyJobCount(jobs.size()).currentJobs(new ArrayList<>(jobs))
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
            return new WorkerSessionListResponse().items(items)
                    .totals(new WorkerSessionTotals().activeInstances(active).slots(slots).busy(busy).stale(stale));
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
                    out.add(new WorkerSocketModelCapability().provider(m.get("provider")).model(m.get("model")));
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
