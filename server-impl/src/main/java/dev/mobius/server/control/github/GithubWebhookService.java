package dev.mobius.server.control.github;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mobius.server.control.ControlException;
import dev.mobius.server.events.SourceEvents;
import dev.mobius.server.ids.Ids;
import dev.mobius.server.json.Json;
import dev.mobius.server.mogplex.MogplexCaller;
import dev.mobius.server.mogplex.MogplexException;
import dev.mobius.server.mogplex.automations.FlowService;
import dev.mobius.server.tenancy.ProjectRow;
import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.jdbi.v3.core.Jdbi;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * GitHub webhook deliveries: signature, once-only handling by delivery id, source events for the
 * projects that registered the repository, and starts of their users' matching automations.
 *
 * <p>Automations are started first, each with the idempotency key {@code github:<delivery id>},
 * then the delivery is recorded with its events in one transaction. A crash between the two
 * leaves the delivery unrecorded: GitHub's redelivery starts nothing twice (the keys) and
 * publishes the events then; once recorded, a redelivery does nothing.
 */
public final class GithubWebhookService {
    private static final Logger log = LoggerFactory.getLogger(GithubWebhookService.class);
    private static final Pattern SEGMENT = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
    static final int MAX_DELIVERY_ID = 200;

    private final Jdbi jdbi;
    private final Ids ids;
    private final ObjectMapper mapper;
    private final FlowService flows;
    private final Runnable nudgeDispatcher;
    private final byte[] secret;

    /** @param secret the webhook secret; null when none is configured (the route is then 404) */
    public GithubWebhookService(
            Jdbi jdbi, Ids ids, ObjectMapper mapper, FlowService flows, Runnable nudgeDispatcher, String secret) {
        this.jdbi = jdbi;
        this.ids = ids;
        this.mapper = mapper;
        this.flows = flows;
        this.nudgeDispatcher = nudgeDispatcher;
        this.secret = secret == null ? null : secret.getBytes(StandardCharsets.UTF_8);
    }

    /** What a delivery did; {@code accepted} when something was published or queued. */
    public record Result(String deliveryId, boolean duplicate, int eventsPublished, int runsStarted) {
        public boolean accepted() {
            return eventsPublished > 0 || runsStarted > 0;
        }

        public Map<String, Object> body() {
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("ok", true);
            out.put("delivery_id", deliveryId);
            out.put("duplicate", duplicate);
            out.put("events_published", eventsPublished);
            out.put("runs_started", runsStarted);
            return out;
        }
    }

    public Result receive(byte[] body, String signature, String event, String deliveryId) {
        if (secret == null) {
            throw ControlException.notFound("Not found");
        }
        if (!signatureValid(body, signature)) {
            throw ControlException.of(401, "Invalid signature");
        }
        event = event == null ? "" : event.strip();
        deliveryId = deliveryId == null ? "" : deliveryId.strip();
        if (event.isEmpty() || deliveryId.isEmpty()) {
            throw ControlException.badRequest("X-GitHub-Event and X-GitHub-Delivery are required");
        }
        if (deliveryId.length() > MAX_DELIVERY_ID || !SEGMENT.matcher(event).matches()) {
            throw ControlException.badRequest("X-GitHub-Event or X-GitHub-Delivery is malformed");
        }
        JsonNode payload;
        try {
            payload = mapper.readTree(body);
        } catch (java.io.IOException e) {
            payload = null;
        }
        if (payload == null || !payload.isObject()) {
            throw ControlException.badRequest("The body must be a JSON object");
        }
        String id = deliveryId;
        if (handled(id)) {
            return new Result(id, true, 0, 0);
        }
        String action =
                payload.path("action").isTextual() ? payload.get("action").asText() : null;
        String eventType =
                "github." + event + (action != null && SEGMENT.matcher(action).matches() ? "." + action : "");
        String fullName = payload.path("repository").path("full_name").asText("");
        List<RepositoryRef> repos = fullName.isEmpty() ? List.of() : repositories(fullName);
        int runs = startAutomations(repos, event, action, payload, id);
        ObjectNode published = ((ObjectNode) payload).deepCopy();
        published.put("delivery_id", id);
        Map<String, Object> eventPayload = Json.toObject(mapper, published);
        String recordedEvent = event;
        Integer events = jdbi.inTransaction(h -> {
            int inserted = h.createUpdate("INSERT INTO github_deliveries (delivery_id, event, action, repository, "
                            + "events_published, runs_started, received_at) VALUES (:id, :event, :action, :repo, "
                            + ":events, :runs, clock_timestamp()) ON CONFLICT (delivery_id) DO NOTHING")
                    .bind("id", id)
                    .bind("event", recordedEvent)
                    .bind("action", action)
                    .bind("repo", fullName.isEmpty() ? null : fullName)
                    .bind("events", (int) repos.stream()
                            .map(RepositoryRef::projectId)
                            .distinct()
                            .count())
                    .bind("runs", runs)
                    .execute();
            if (inserted == 0) {
                return null; // handled meanwhile by another request
            }
            Set<String> projects = new java.util.LinkedHashSet<>();
            repos.forEach(r -> projects.add(r.projectId()));
            for (String project : projects) {
                SourceEvents.publish(h, ids, mapper, project, eventType, fullName, eventPayload);
            }
            return projects.size();
        });
        if (events == null) {
            return new Result(id, true, 0, 0);
        }
        if (events > 0) {
            nudgeDispatcher.run();
        }
        return new Result(id, false, events, runs);
    }

    boolean signatureValid(byte[] body, String header) {
        if (header == null || !header.startsWith("sha256=")) {
            return false;
        }
        byte[] given;
        try {
            given = HexFormat.of().parseHex(header.substring(7).strip().toLowerCase(java.util.Locale.ROOT));
        } catch (IllegalArgumentException e) {
            return false;
        }
        return MessageDigest.isEqual(sign(secret, body), given);
    }

    /** HMAC-SHA256 of {@code body} under {@code key}. */
    public static byte[] sign(byte[] key, byte[] body) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return mac.doFinal(body);
        } catch (NoSuchAlgorithmException | InvalidKeyException e) {
            throw new IllegalStateException("HmacSHA256 is unavailable", e);
        }
    }

    private boolean handled(String deliveryId) {
        return jdbi.withHandle(
                h -> h.createQuery("SELECT EXISTS (SELECT 1 FROM github_deliveries WHERE delivery_id = :id)")
                        .bind("id", deliveryId)
                        .mapTo(Boolean.class)
                        .one());
    }

    /** A registered repository of that name, in some project. */
    public record RepositoryRef(String id, String projectId, String fullName, Long installationId) {}

    private List<RepositoryRef> repositories(String fullName) {
        return jdbi.withHandle(h -> h.createQuery(
                        "SELECT r.id, r.project_id, r.full_name, r.installation_id FROM repositories r "
                                + "JOIN projects p ON p.id = r.project_id AND p.archived_at IS NULL WHERE r.full_name = :name "
                                + "ORDER BY r.project_id")
                .bind("name", fullName)
                .map((rs, ctx) -> new RepositoryRef(
                        rs.getString("id"),
                        rs.getString("project_id"),
                        rs.getString("full_name"),
                        rs.getObject("installation_id") == null ? null : rs.getLong("installation_id")))
                .list());
    }

    /** A published, active automation of a user of one of the projects, with its published graph. */
    public record Candidate(
            String flowId,
            String name,
            long installationId,
            String graph,
            String userId,
            String username,
            String principalId,
            String orgId,
            String projectId) {}

    private int startAutomations(
            List<RepositoryRef> repos, String event, String action, JsonNode payload, String deliveryId) {
        int started = 0;
        for (RepositoryRef repo : repos) {
            if (repo.installationId() == null) {
                continue; // automations are bound to an installation; this repository has none
            }
            List<Candidate> candidates = jdbi.withHandle(h -> h.createQuery(
                            "SELECT f.id AS flow_id, f.name, f.installation_id, v.graph::text AS graph, u.id AS user_id, "
                                    + "u.username, u.principal_id, u.org_id, u.project_id "
                                    + "FROM mogplex_flows f JOIN mogplex_flow_versions v ON v.id = f.published_version_id "
                                    + "JOIN users u ON u.id = f.user_id JOIN projects p ON p.id = u.project_id "
                                    + "WHERE u.project_id = :project AND f.status = 'active' AND f.installation_id = :installation "
                                    + "ORDER BY f.created_at, f.id")
                    .bind("project", repo.projectId())
                    .bind("installation", repo.installationId())
                    .mapTo(Candidate.class)
                    .list());
            StartMatch.Delivery delivery =
                    new StartMatch.Delivery(event, action, payload, repo.fullName(), repo.installationId());
            for (Candidate c : candidates) {
                JsonNode start = startNode(c.graph());
                if (start == null || !StartMatch.matches(start, c.name(), delivery)) {
                    continue;
                }
                if (start(c, repo, event, action, payload, deliveryId)) {
                    started++;
                }
            }
        }
        return started;
    }

    private boolean start(
            Candidate c, RepositoryRef repo, String event, String action, JsonNode payload, String deliveryId) {
        ProjectRow project =
                jdbi.withHandle(h -> dev.mobius.server.db.Daos.of(h, dev.mobius.server.tenancy.ProjectDao.class)
                        .findByRef(c.orgId(), c.projectId())
                        .orElseThrow());
        MogplexCaller owner = new MogplexCaller(
                c.userId(),
                c.username(),
                c.principalId(),
                c.orgId(),
                project,
                null,
                Set.of("read", "write"),
                null,
                "GitHub-Hookshot",
                null);
        ObjectNode body = JsonNodeFactory.instance.objectNode();
        body.put("repoId", Ids.uuidOf(repo.id()));
        ObjectNode input = body.putObject("input");
        input.put("github_event", event);
        input.put("github_action", action);
        input.put("delivery_id", deliveryId);
        input.set("payload", payload);
        try {
            Map<String, Object> result =
                    flows.trigger(owner, Ids.uuidOf(c.flowId()), "github:" + deliveryId, body, "github");
            Object run = result.get("run");
            return run instanceof Map<?, ?> m && Boolean.TRUE.equals(m.get("started"));
        } catch (MogplexException e) {
            // An automation that cannot start now (e.g. deactivated meanwhile) does not fail the delivery.
            log.info("GitHub delivery {} did not start automation {}: {}", deliveryId, c.flowId(), e.getMessage());
            return false;
        }
    }

    private JsonNode startNode(String graph) {
        for (JsonNode node : Json.readTree(mapper, graph).path("nodes")) {
            if ("start".equals(node.path("type").asText())) {
                return node.path("data");
            }
        }
        return null;
    }
}
