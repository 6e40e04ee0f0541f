package dev.mobius.server.agents;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mobius.api.model.AgentMessagingBinding;
import dev.mobius.api.model.AgentMessagingBindingListResponse;
import dev.mobius.api.model.AgentMessagingBindingRequest;
import dev.mobius.api.model.AgentMessagingDMPolicy;
import dev.mobius.api.model.AgentMessagingProvider;
import dev.mobius.api.model.AgentMessagingReplyMode;
import dev.mobius.api.model.AgentModelRoute;
import dev.mobius.server.audit.AuditTrail;
import dev.mobius.server.db.Daos;
import dev.mobius.server.http.ApiException;
import dev.mobius.server.http.Validator;
import dev.mobius.server.ids.Ids;
import dev.mobius.server.json.Json;
import dev.mobius.server.tenancy.Caller;
import dev.mobius.server.tenancy.ProjectAccess;
import dev.mobius.server.tenancy.ProjectRow;
import dev.mobius.server.time.Times;
import java.time.OffsetDateTime;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.jdbi.v3.core.Jdbi;

/**
 * Where an agent listens on Slack or Telegram. Bindings are stored and checked here, one per
 * agent, provider and integration; a channel of an integration belongs to one agent of the
 * project at a time. The server itself sends nothing to either service.
 */
public final class BindingService {
    static final Pattern IDENTIFIER = Pattern.compile("^[A-Za-z0-9_.:-]{1,128}$");
    /** Senders are the provider's user ids or addresses: any 1 to 128 characters. */
    static final Pattern SENDER = Pattern.compile("^.{1,128}$", Pattern.DOTALL);

    static final String SENDER_RULE = "must be 1-128 characters";
    static final int MAX_LIST = 100;
    static final String IDENTIFIER_RULE = "must be 1-128 characters of A-Z, a-z, 0-9, _, ., : and -";

    private final Jdbi jdbi;
    private final Ids ids;
    private final ObjectMapper mapper;
    private final AuditTrail audit;

    public BindingService(Jdbi jdbi, Ids ids, ObjectMapper mapper, AuditTrail audit) {
        this.jdbi = jdbi;
        this.ids = ids;
        this.mapper = mapper;
        this.audit = audit;
    }

    public AgentMessagingBindingListResponse list(Caller caller, String projectRef, String agentId) {
        return jdbi.withHandle(h -> {
            ProjectRow project = ProjectAccess.require(h, caller, projectRef);
            AgentRow agent = AgentService.require(h, project, agentId, false);
            return new AgentMessagingBindingListResponse()
                    .items(Daos.of(h, BindingDao.class).list(agent.id()).stream()
                            .map(this::view)
                            .toList());
        });
    }

    /** Creates or replaces the agent's binding for the request's provider and integration. */
    public AgentMessagingBinding save(
            Caller caller, String projectRef, String agentId, AgentMessagingBindingRequest request) {
        List<String> channels = request.getChannels() == null ? List.of() : request.getChannels();
        List<String> senders = request.getSenderAllow() == null ? List.of() : request.getSenderAllow();
        AgentMessagingDMPolicy policy =
                request.getDmPolicy() == null ? AgentMessagingDMPolicy.OPEN : request.getDmPolicy();
        Validator v = new Validator();
        if (request.getIntegrationId() == null
                || !IDENTIFIER.matcher(request.getIntegrationId()).matches()) {
            v.add("integration_id", IDENTIFIER_RULE);
        }
        checkList(channels, "channels", "channel", IDENTIFIER, IDENTIFIER_RULE, v);
        checkList(senders, "sender_allow", "sender", SENDER, SENDER_RULE, v);
        if (policy == AgentMessagingDMPolicy.ALLOWLIST && senders.isEmpty()) {
            v.add("sender_allow", "must hold at least one sender when dm_policy is allowlist");
        }
        if (request.getModelRoute() != null && request.getModelRoute().getMode() == null) {
            v.add("model_route.mode", "is required");
        }
        v.throwIfInvalidSorted();
        return jdbi.inTransaction(h -> {
            ProjectRow project = ProjectAccess.require(h, caller, projectRef);
            AgentRow agent = AgentService.require(h, project, agentId, true);
            String provider = request.getProvider().toString();
            // Saves on one integration take turns, so two agents cannot claim one channel at once.
            h.execute(
                    "SELECT pg_advisory_xact_lock(hashtextextended(?, 0))",
                    "binding\n" + project.id() + "\n" + provider + "\n" + request.getIntegrationId());
            BindingDao dao = Daos.of(h, BindingDao.class);
            Map<String, String> taken = new LinkedHashMap<>();
            for (BindingDao.BindingRow other :
                    dao.others(project.id(), provider, request.getIntegrationId(), agent.id())) {
                strings(other.channels()).forEach(channel -> taken.putIfAbsent(channel, other.agentId()));
            }
            for (String channel : channels) { // the first clash in the caller's order
                if (taken.containsKey(channel)) {
                    Map<String, Object> details = new LinkedHashMap<>();
                    details.put("channel", channel);
                    details.put("agent_id", taken.get(channel));
                    throw ApiException.conflict(
                            "channel_bound_elsewhere",
                            "channel \"" + channel + "\" is already bound to agent \"" + taken.get(channel) + "\"",
                            details);
                }
            }
            OffsetDateTime now = Times.now();
            var existing = dao.findByIntegration(agent.id(), provider, request.getIntegrationId());
            BindingDao.BindingRow row = new BindingDao.BindingRow(
                    existing.map(BindingDao.BindingRow::id).orElseGet(() -> ids.next("mbind")),
                    agent.id(),
                    project.id(),
                    provider,
                    request.getIntegrationId(),
                    or(request.getEnabled(), false),
                    or(request.getDms(), true),
                    or(request.getMentions(), true),
                    or(request.getAllMessages(), false),
                    Json.write(mapper, channels),
                    policy.toString(),
                    Json.write(mapper, senders),
                    request.getReplyMode() == null
                            ? AgentMessagingReplyMode.AUTO.toString()
                            : request.getReplyMode().toString(),
                    request.getModelRoute() == null ? null : Json.write(mapper, request.getModelRoute()),
                    existing.map(BindingDao.BindingRow::createdAt).orElse(now),
                    now);
            dao.save(row);
            audit.updated(
                    h,
                    caller,
                    project.id(),
                    "agent",
                    agent.id(),
                    agent.name(),
                    existing.<Map<String, Object>>map(b -> Map.of("messaging_binding", summary(b)))
                            .orElse(Map.of()),
                    Map.of("messaging_binding", summary(row)));
            return view(row);
        });
    }

    public void delete(Caller caller, String projectRef, String agentId, String bindingId) {
        jdbi.useTransaction(h -> {
            ProjectRow project = ProjectAccess.require(h, caller, projectRef);
            AgentRow agent = AgentService.require(h, project, agentId, true);
            BindingDao dao = Daos.of(h, BindingDao.class);
            BindingDao.BindingRow row = dao.find(agent.id(), bindingId)
                    .orElseThrow(() -> ApiException.notFound("messaging binding \"" + bindingId + "\" not found"));
            dao.delete(row.id());
            audit.updated(
                    h,
                    caller,
                    project.id(),
                    "agent",
                    agent.id(),
                    agent.name(),
                    Map.of("messaging_binding", summary(row)),
                    Map.of());
        });
    }

    private static void checkList(
            List<String> values, String field, String noun, Pattern shape, String rule, Validator v) {
        if (values.size() > MAX_LIST) {
            v.add(field, "must hold at most " + MAX_LIST + " " + noun + "s");
            return;
        }
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < values.size(); i++) {
            String value = values.get(i);
            if (value == null || !shape.matcher(value).matches()) {
                v.add(field + "[" + i + "]", rule);
            } else if (!seen.add(value)) {
                v.add(field + "[" + i + "]", "duplicates an earlier " + noun);
            }
        }
    }

    private static boolean or(Boolean given, boolean otherwise) {
        return given != null ? given : otherwise;
    }

    private List<String> strings(String json) {
        return Json.read(mapper, json, new TypeReference<List<String>>() {});
    }

    private Map<String, Object> summary(BindingDao.BindingRow b) {
        return AuditTrail.summary(
                "id", b.id(),
                "provider", b.provider(),
                "integration_id", b.integrationId(),
                "enabled", b.enabled(),
                "channels", strings(b.channels()),
                "dm_policy", b.dmPolicy());
    }

    private AgentMessagingBinding view(BindingDao.BindingRow b) {
        return new AgentMessagingBinding()
                .id(b.id())
                .agentId(b.agentId())
                .provider(AgentMessagingProvider.fromValue(b.provider()))
                .integrationId(b.integrationId())
                .enabled(b.enabled())
                .dms(b.dms())
                .mentions(b.mentions())
                .allMessages(b.allMessages())
                .channels(strings(b.channels()))
                .dmPolicy(AgentMessagingDMPolicy.fromValue(b.dmPolicy()))
                .senderAllow(strings(b.senderAllow()))
                .replyMode(AgentMessagingReplyMode.fromValue(b.replyMode()))
                .modelRoute(b.modelRoute() == null ? null : Json.read(mapper, b.modelRoute(), AgentModelRoute.class))
                .createdAt(b.createdAt())
                .updatedAt(b.updatedAt());
    }
}
