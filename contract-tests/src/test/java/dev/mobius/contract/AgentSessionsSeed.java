package dev.mobius.contract;

import dev.mobius.server.MobiusServer;
import dev.mobius.server.ids.Ids;
import dev.mobius.server.json.Json;
import dev.mobius.server.sessions.SessionStore;
import java.util.List;
import java.util.Map;

/**
 * The two sessions the contract's session examples read (x-replay-setup: agent-sessions). Sessions
 * are opened only by the agent step, which no example can drive without a model; so the replay of
 * a server of its own opens them through the server's own {@link SessionStore}, as the agent step
 * does, on the agent the examples created ("Triage" of project acme-payments).
 */
final class AgentSessionsSeed {
    private AgentSessionsSeed() {}

    static void seed(MobiusServer server) {
        SessionStore store = new SessionStore(new Ids(), Json.newMapper());
        server.database().jdbi().useTransaction(h -> {
            Map<String, Object> agent = h.createQuery("SELECT a.id, a.org_id, a.project_id, a.created_by FROM agents a "
                            + "JOIN projects p ON p.id = a.project_id "
                            + "WHERE p.handle = 'acme-payments' AND a.name = 'Triage' AND a.deleted_at IS NULL")
                    .mapToMap()
                    .one();
            String org = (String) agent.get("org_id");
            String project = (String) agent.get("project_id");
            String id = (String) agent.get("id");
            String by = (String) agent.get("created_by");
            // An earlier conversation, archived: listed after the live one, and a stream on it ends at once.
            var onboarding = store.open(
                    h, org, project, id, "agent", id, "onboarding", "Onboarding questions", "project", "api", by);
            store.setStatus(h, onboarding.id(), "archived");
            var triage = store.open(
                    h, org, project, id, "agent", id, "default", "Ticket triage", "project", "automation", by);
            store.append(
                    h,
                    triage.id(),
                    List.of(
                            new SessionStore.NewMessage(
                                    "user", "Ticket #4521: card declined twice at checkout.", null, null),
                            new SessionStore.NewMessage(
                                    "assistant",
                                    "Labelled payments/cards, urgency high; routed to the cards team.",
                                    null,
                                    null)),
                    1200L,
                    300L,
                    "llama3",
                    "ollama");
        });
    }
}
