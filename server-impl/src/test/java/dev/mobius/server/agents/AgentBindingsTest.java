package dev.mobius.server.agents;

import static dev.mobius.server.agents.AgentCalls.details;
import static dev.mobius.server.agents.AgentCalls.expectError;
import static dev.mobius.server.agents.AgentCalls.fields;
import static dev.mobius.server.agents.AgentCalls.ids;
import static dev.mobius.server.agents.AgentCalls.map;
import static dev.mobius.server.agents.AgentCalls.message;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mobius.server.Api;
import dev.mobius.server.Fixtures;
import dev.mobius.server.SharedServerTest;
import dev.mobius.server.TestServer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Messaging bindings: upsert by provider and integration, defaults, rules, one agent per channel. */
class AgentBindingsTest extends SharedServerTest {
    static final String KEY = TestServer.BOOTSTRAP_KEY;
    static final ObjectMapper JSON = new ObjectMapper();
    static final String RULE = "must be 1-128 characters of A-Z, a-z, 0-9, _, ., : and -";
    static AgentCalls a;

    @BeforeAll
    static void project() {
        a = new AgentCalls(api, new Fixtures(api, KEY).project("Agent Chat"), KEY);
    }

    static String agent(String name) {
        return a.createAgent(name).get("id").asText();
    }

    static Map<String, Object> binding(String provider, String integration, Object... more) {
        Map<String, Object> b = map("provider", provider, "integration_id", integration);
        b.putAll(map(more));
        return b;
    }

    static JsonNode saved(String agent, Map<String, Object> body) {
        Api.Reply r = a.saveBinding(agent, body);
        assertEquals(200, r.status(), r.toString());
        return r.json();
    }

    static JsonNode list(String agent) {
        Api.Reply r = api.get(a.agent(agent) + "/messaging-bindings", KEY);
        assertEquals(200, r.status(), r.toString());
        return r.json().get("items");
    }

    @Test
    void aSaveFillsTheDefaultsAndASecondSaveReplacesTheSameBinding() throws Exception {
        String agent = agent("Greeter");
        JsonNode first = saved(agent, binding("slack", "T0001"));
        assertTrue(first.get("id").asText().startsWith("mbind_"), first.toString());
        assertEquals(agent, first.get("agent_id").asText());
        assertEquals("slack", first.get("provider").asText());
        assertEquals("T0001", first.get("integration_id").asText());
        assertFalse(first.get("enabled").asBoolean());
        assertTrue(first.get("dms").asBoolean());
        assertTrue(first.get("mentions").asBoolean());
        assertFalse(first.get("all_messages").asBoolean());
        assertEquals(JSON.valueToTree(List.of()), first.get("channels"));
        assertEquals(JSON.valueToTree(List.of()), first.get("sender_allow"));
        assertEquals("open", first.get("dm_policy").asText());
        assertEquals("auto", first.get("reply_mode").asText());
        assertFalse(first.has("model_route"), first.toString());

        Thread.sleep(5);
        JsonNode second = saved(
                agent,
                binding(
                        "slack",
                        "T0001",
                        "enabled",
                        true,
                        "dms",
                        false,
                        "all_messages",
                        true,
                        "channels",
                        List.of("C100", "C200"),
                        "dm_policy",
                        "allowlist",
                        "sender_allow",
                        List.of("U1"),
                        "model_route",
                        map("mode", "managed")));
        assertEquals(first.get("id"), second.get("id"), "upsert keeps the id");
        assertEquals(first.get("created_at"), second.get("created_at"));
        assertNotEquals(first.get("updated_at"), second.get("updated_at"));
        assertTrue(second.get("enabled").asBoolean());
        assertFalse(second.get("dms").asBoolean());
        assertEquals(JSON.valueToTree(List.of("C100", "C200")), second.get("channels"));
        assertEquals("allowlist", second.get("dm_policy").asText());
        assertEquals("managed", second.get("model_route").get("mode").asText());

        // Saved whole: what the request leaves out goes back to its default.
        JsonNode third = saved(agent, binding("slack", "T0001", "channels", List.of("C100")));
        assertEquals(first.get("id"), third.get("id"));
        assertFalse(third.get("enabled").asBoolean());
        assertTrue(third.get("dms").asBoolean());
        assertEquals("open", third.get("dm_policy").asText());
        assertFalse(third.has("model_route"), third.toString());

        JsonNode telegram = saved(agent, binding("telegram", "T0001"));
        JsonNode otherWorkspace = saved(agent, binding("slack", "T0002"));
        assertEquals(
                List.of(
                        first.get("id").asText(),
                        telegram.get("id").asText(),
                        otherWorkspace.get("id").asText()),
                ids(list(agent), "id"),
                "one binding per provider and integration, oldest first");
        assertEquals(third, list(agent).get(0));
    }

    @Test
    void badValuesAreRefusedWithTheirPaths() {
        String agent = agent("Strict");
        assertEquals(
                List.of("sender_allow: must hold at least one sender when dm_policy is allowlist"),
                fields(a.saveBinding(agent, binding("slack", "T1", "dm_policy", "allowlist"))));
        assertEquals(
                List.of(
                        "channels[1]: " + RULE,
                        "channels[2]: duplicates an earlier channel",
                        "channels[3]: " + RULE,
                        "integration_id: " + RULE),
                fields(a.saveBinding(
                        agent,
                        binding("slack", "bad id!", "channels", List.of("C1", "no spaces", "C1", "x".repeat(129))))));
        assertEquals(
                List.of("model_route.mode: is required"),
                fields(a.saveBinding(agent, binding("slack", "T1", "model_route", map()))));
        expectError(a.saveBinding(agent, binding("discord", "T1")), 400, "validation_failed");
        expectError(a.saveBinding(agent, map("provider", "slack")), 400, "validation_failed");
        assertEquals(0, list(agent).size(), "nothing saved");
    }

    @Test
    void listLimitsAndSendersFollowTheContractsWording() {
        String agent = agent("Gatekeeper");
        assertEquals(
                List.of("channels: must hold at most 100 channels"),
                fields(a.saveBinding(
                        agent,
                        binding(
                                "slack",
                                "T1",
                                "channels",
                                IntStream.range(0, 101).mapToObj(i -> "C" + i).toList()))));
        Api.Reply ok = a.saveBinding(
                agent,
                binding("telegram", "bot-1", "dm_policy", "allowlist", "sender_allow", List.of("alice@example.com")));
        assertEquals(200, ok.status(), ok.toString());
        assertEquals(
                List.of("sender_allow: must hold at most 100 senders"),
                fields(a.saveBinding(
                        agent,
                        binding(
                                "telegram",
                                "bot-1",
                                "sender_allow",
                                IntStream.range(0, 101).mapToObj(i -> "U" + i).toList()))));
        assertEquals(
                List.of("sender_allow[0]: must be 1-128 characters"),
                fields(a.saveBinding(agent, binding("telegram", "bot-1", "sender_allow", List.of("")))));
    }

    @Test
    void aChannelOfAnIntegrationBelongsToOneAgent() {
        String first = agent("First");
        String second = agent("Second");
        saved(first, binding("slack", "TEAM", "channels", List.of("C1", "C2")));

        Api.Reply clash = a.saveBinding(second, binding("slack", "TEAM", "channels", List.of("C9", "C2", "C1")));
        expectError(clash, 409, "channel_bound_elsewhere");
        String channel = details(clash).get("channel").asText();
        assertTrue(List.of("C1", "C2").contains(channel), clash.toString());
        assertEquals("channel \"" + channel + "\" is already bound to agent \"" + first + "\"", message(clash));
        assertEquals(JSON.valueToTree(map("channel", channel, "agent_id", first)), details(clash));
        assertEquals(0, list(second).size());

        saved(second, binding("slack", "OTHER", "channels", List.of("C2")));
        saved(second, binding("telegram", "TEAM", "channels", List.of("C2")));
        saved(first, binding("slack", "TEAM", "channels", List.of("C2", "C1")));

        String binding = list(first).get(0).get("id").asText();
        assertEquals(
                204,
                api.delete(a.agent(first) + "/messaging-bindings/" + binding, KEY)
                        .status());
        saved(second, binding("slack", "TEAM", "channels", List.of("C2")));
    }

    @Test
    void theClashNamesTheFirstBoundChannelInRequestOrder() {
        String first = agent("Early");
        String second = agent("Late");
        saved(first, binding("slack", "ORDER", "channels", List.of("C1", "C2")));
        Api.Reply clash = a.saveBinding(second, binding("slack", "ORDER", "channels", List.of("C9", "C2", "C1")));
        expectError(clash, 409, "channel_bound_elsewhere");
        assertEquals(JSON.valueToTree(map("channel", "C2", "agent_id", first)), details(clash));
        assertEquals("channel \"C2\" is already bound to agent \"" + first + "\"", message(clash));
    }

    @Test
    void twoAgentsClaimingOneChannelAtOnceGetItOnce() throws Exception {
        String left = agent("Left");
        String right = agent("Right");
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            for (int round = 0; round < 10; round++) {
                String channel = "R" + round;
                Map<String, Object> body = binding("slack", "RACE", "channels", List.of(channel));
                CyclicBarrier start = new CyclicBarrier(2);
                List<Future<Api.Reply>> saves = new ArrayList<>();
                for (String agent : List.of(left, right)) {
                    saves.add(pool.submit(() -> {
                        start.await(5, TimeUnit.SECONDS);
                        return a.saveBinding(agent, body);
                    }));
                }
                List<Integer> statuses = new ArrayList<>();
                for (Future<Api.Reply> f : saves) {
                    Api.Reply r = f.get(30, TimeUnit.SECONDS);
                    statuses.add(r.status());
                    if (r.status() != 200) {
                        expectError(r, 409, "channel_bound_elsewhere");
                    }
                }
                assertEquals(1, statuses.stream().filter(s -> s == 200).count(), "round " + round + ": " + statuses);
                int holders = 0;
                for (String agent : List.of(left, right)) {
                    for (JsonNode b : list(agent)) {
                        for (JsonNode c : b.get("channels")) {
                            holders += c.asText().equals(channel) ? 1 : 0;
                        }
                    }
                }
                assertEquals(1, holders, "round " + round + ": one agent holds " + channel);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void deleteRemovesOneBindingOfTheAgent() {
        String owner = agent("Owner of bindings");
        String other = agent("Bystander");
        String id = saved(owner, binding("slack", "DEL")).get("id").asText();
        Api.Reply foreign = api.delete(a.agent(other) + "/messaging-bindings/" + id, KEY);
        expectError(foreign, 404, "not_found");
        assertEquals("messaging binding \"" + id + "\" not found", message(foreign));
        assertEquals(
                204,
                api.delete(a.agent(owner) + "/messaging-bindings/" + id, KEY).status());
        expectError(api.delete(a.agent(owner) + "/messaging-bindings/" + id, KEY), 404, "not_found");
        assertEquals(0, list(owner).size());
        assertEquals(List.of("update", "update", "create"), a.auditActions(owner), "save and delete are audited");
    }

    @Test
    void theBindingsOfADeletedAgentAreGoneAndItsChannelsFree() {
        String gone = agent("Gone");
        String id = saved(gone, binding("slack", "FREE", "channels", List.of("C7")))
                .get("id")
                .asText();
        assertEquals(204, a.delete(gone).status());
        expectError(api.get(a.agent(gone) + "/messaging-bindings", KEY), 404, "not_found");
        expectError(a.saveBinding(gone, binding("slack", "FREE")), 404, "not_found");
        Api.Reply delete = api.delete(a.agent(gone) + "/messaging-bindings/" + id, KEY);
        expectError(delete, 404, "not_found");
        assertEquals("agent \"" + gone + "\" not found", message(delete));

        String heir = agent("Heir");
        Api.Reply claim = a.saveBinding(heir, binding("slack", "FREE", "channels", List.of("C7")));
        assertEquals(200, claim.status(), "a deleted agent holds no channel: " + claim);
    }
}
