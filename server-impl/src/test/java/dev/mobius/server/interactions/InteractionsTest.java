package dev.mobius.server.interactions;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mobius.server.Api;
import dev.mobius.server.Fixtures;
import dev.mobius.server.SharedServerTest;
import dev.mobius.server.TestServer;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The six interaction operations over HTTP: creation, lists, answers under each policy, cancel, delete, expiry. */
class InteractionsTest extends SharedServerTest {
    static final String KEY = TestServer.BOOTSTRAP_KEY;
    static final String P = "/v1/projects/desk";
    static Fixtures fx;
    static Fixtures.Key alice;
    static Fixtures.Key bob;
    static Fixtures.Key carol;

    @BeforeAll
    static void setUp() {
        fx = new Fixtures(api, KEY);
        fx.project("Desk");
        alice = fx.key("desk", "alice");
        bob = fx.key("desk", "bob");
        carol = fx.key("desk", "carol");
    }

    static Map<String, Object> body(Object... keyValues) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < keyValues.length; i += 2) {
            m.put((String) keyValues[i], keyValues[i + 1]);
        }
        return m;
    }

    static JsonNode create(String project, Map<String, Object> body) {
        Api.Reply r = api.post("/v1/projects/" + project + "/interactions", KEY, body);
        assertEquals(201, r.status(), r.toString());
        return r.json();
    }

    static Api.Reply respond(String id, String key, Object value) {
        return api.post(P + "/interactions/" + id + "/respond", key, Map.of("value", value));
    }

    static List<String> fieldsOf(Api.Reply r) {
        List<String> out = new ArrayList<>();
        r.json()
                .path("error")
                .path("details")
                .path("fields")
                .forEach(f ->
                        out.add(f.get("field").asText() + ": " + f.get("reason").asText()));
        return out;
    }

    // ---- create ---------------------------------------------------------------------------

    @Test
    void standaloneInteractionStartsPendingWithDefaults() {
        JsonNode i =
                create("desk", body("kind", "request_approval", "title", "Deploy?", "spec", Map.of("mode", "confirm")));
        assertTrue(i.get("id").asText().startsWith("iact_"));
        assertEquals("pending", i.get("status").asText());
        assertEquals("any_of", i.get("resolution_policy").get("type").asText());
        assertFalse(i.get("require_all").asBoolean());
        assertEquals(0, i.get("target_user_ids").size());
        assertEquals(0, i.get("responses").size());
        assertEquals(0, i.get("references").size());
        assertTrue(i.get("tags").isObject());
        assertFalse(i.has("run_id") || i.has("outcome") || i.has("completed_at") || i.has("consumer"));
        JsonNode all = create(
                "desk",
                body(
                        "kind",
                        "request_information",
                        "title",
                        "Names?",
                        "require_all",
                        true,
                        "target_user_ids",
                        List.of(alice.principalId(), bob.principalId())));
        assertEquals("all_of", all.get("resolution_policy").get("type").asText());
        assertTrue(all.get("require_all").asBoolean());
        Api.Reply got = api.get(P + "/interactions/" + i.get("id").asText(), KEY);
        assertEquals(200, got.status());
        assertEquals(i, got.json());
    }

    @Test
    void runBackedInteractionNamesARunOfTheProject() throws Exception {
        String runId = suspendedRun(api, "desk", "backed");
        JsonNode i = create(
                "desk",
                body(
                        "kind",
                        "request_review",
                        "title",
                        "Look at it",
                        "run_id",
                        runId,
                        "signal_name",
                        "wait",
                        "spec",
                        Map.of("mode", "input")));
        assertEquals(runId, i.get("run_id").asText());
        assertEquals("wait", i.get("signal_name").asText());
        assertFalse(i.has("consumer"), "API-created run-backed interactions are not consumed by the run");

        Api.Reply unknown = api.post(
                P + "/interactions",
                KEY,
                body("kind", "request_review", "title", "x", "run_id", "run_nope", "signal_name", "wait"));
        assertEquals(404, unknown.status());
        assertEquals(
                "run \"run_nope\" not found",
                unknown.json().get("error").get("message").asText());

        Api.Reply half =
                api.post(P + "/interactions", KEY, body("kind", "request_review", "title", "x", "signal_name", "wait"));
        assertEquals(400, half.status());
        assertEquals(List.of("run_id: is required when signal_name is given"), fieldsOf(half));

        // A run of another project is not found either.
        fx.project("Elsewhere");
        Api.Reply foreign = api.post(
                "/v1/projects/elsewhere/interactions",
                KEY,
                body("kind", "request_review", "title", "x", "run_id", runId, "signal_name", "wait"));
        assertEquals(404, foreign.status());
    }

    @Test
    void validationListsEveryBrokenRuleWithItsPath() {
        Map<String, Object> bad = body(
                "kind",
                "request_review",
                "title",
                " ",
                "target_user_ids",
                List.of("prin_a", "prin_a"),
                "spec",
                Map.of("mode", "confirm", "options", List.of(Map.of("value", "x", "label", "X"))),
                "subject",
                Map.of("kind", "mobius_entity", "entity_type", "run"),
                "references",
                List.of(Map.of("kind", "external_url", "url", "ftp://files.example.com/x")),
                "require_all",
                true,
                "resolution_policy",
                Map.of("type", "any_of", "threshold", 2),
                "delivery",
                Map.of(
                        "channels",
                        List.of(
                                Map.of("kind", "email"),
                                Map.of("kind", "inbox_only", "email", Map.of("to", List.of("a@example.com"))))),
                "consumer",
                Map.of("kind", "http_subscriber"),
                "expires_at",
                OffsetDateTime.now(ZoneOffset.UTC).minusMinutes(1).toString());
        Api.Reply r = api.post(P + "/interactions", KEY, bad);
        assertEquals(400, r.status(), r.toString());
        assertEquals("validation_failed", r.errorCode());
        assertEquals(
                List.of(
                        "consumer.http_subscriber: is required for kind http_subscriber",
                        "delivery.channels[0].email: is required for kind email",
                        "delivery.channels[1].email: is only allowed for kind email",
                        "expires_at: must be in the future",
                        "references[0].url: must be an absolute http or https URL",
                        "require_all: give either require_all or resolution_policy, not both",
                        "resolution_policy.threshold: is only allowed for type quorum",
                        "spec.mode: must be select or input for kind request_review",
                        "spec.options: is only allowed for modes select and multi_select",
                        "subject.entity_id: is required for kind mobius_entity",
                        "target_user_ids[1]: duplicate target \"prin_a\"",
                        "title: must not be blank"),
                fieldsOf(r));

        Api.Reply select = api.post(
                P + "/interactions",
                KEY,
                body(
                        "kind",
                        "request_information",
                        "title",
                        "Pick",
                        "spec",
                        Map.of(
                                "mode",
                                "select",
                                "default_value",
                                "z",
                                "options",
                                List.of(Map.of("value", "a", "label", "A"), Map.of("value", "a", "label", "B"))),
                        "resolution_policy",
                        Map.of("type", "quorum")));
        assertEquals(
                List.of(
                        "resolution_policy.threshold: is required for type quorum",
                        "spec.default_value: must be one of the option values",
                        "spec.options[1].value: duplicate option value \"a\""),
                fieldsOf(select));

        Api.Reply quorum = api.post(
                P + "/interactions",
                KEY,
                body(
                        "kind",
                        "request_information",
                        "title",
                        "Pick",
                        "target_user_ids",
                        List.of(alice.principalId(), bob.principalId()),
                        "resolution_policy",
                        Map.of("type", "quorum", "threshold", 3)));
        assertEquals(
                List.of("resolution_policy.threshold: must be between 1 and 2 (the number of target_user_ids)"),
                fieldsOf(quorum));

        // Schema rules come from the contract: unknown fields, enums, required fields.
        assertEquals(
                List.of("kind: must be one of request_information, request_approval, request_review"),
                fieldsOf(api.post(P + "/interactions", KEY, body("kind", "request_everything", "title", "x"))));
        assertEquals(
                List.of("surprise: unknown field"),
                fieldsOf(api.post(
                        P + "/interactions", KEY, body("kind", "request_review", "title", "x", "surprise", 1))));
        assertEquals(
                List.of("spec.mode: must be one of confirm, select, multi_select, input"),
                fieldsOf(api.post(
                        P + "/interactions",
                        KEY,
                        body("kind", "request_review", "title", "x", "spec", Map.of("mode", "chat")))));
    }

    // ---- lists ----------------------------------------------------------------------------

    @Test
    void listsFilterAndPageNewestFirst() throws Exception {
        fx.project("Lists");
        String lp = "/v1/projects/lists/interactions";
        String runId = suspendedRun(api, "lists", "listed");
        List<String> created = new ArrayList<>();
        for (int i = 0; i < 7; i++) {
            Map<String, Object> b = body(
                    "kind",
                    i % 2 == 0 ? "request_information" : "request_review",
                    "title",
                    "Q" + i,
                    "tags",
                    Map.of("batch", i < 4 ? "first" : "second"));
            if (i == 3) {
                b.put("run_id", runId);
                b.put("signal_name", "wait");
            }
            if (i == 5) {
                b.put("target_user_ids", List.of("prin_someone_else"));
            }
            created.add(create("lists", b).get("id").asText());
        }
        api.post(lp + "/" + created.get(1) + "/cancel", KEY, Map.of("reason", "not needed"));

        List<String> walked = new ArrayList<>();
        String cursor = null;
        do {
            Api.Reply page = api.get(
                    lp + "?limit=2"
                            + (cursor == null ? "" : "&cursor=" + URLEncoder.encode(cursor, StandardCharsets.UTF_8)),
                    KEY);
            assertEquals(200, page.status(), page.toString());
            assertTrue(page.json().get("items").size() <= 2);
            page.json().get("items").forEach(i -> walked.add(i.get("id").asText()));
            boolean more = page.json().get("has_more").asBoolean();
            assertEquals(more, page.json().has("next_cursor"));
            cursor = more ? page.json().get("next_cursor").asText() : null;
        } while (cursor != null);
        List<String> newestFirst = new ArrayList<>(created);
        java.util.Collections.reverse(newestFirst);
        assertEquals(newestFirst, walked);

        assertEquals(List.of(created.get(1)), ids(api.get(lp + "?status=cancelled", KEY)));
        assertEquals(6, ids(api.get(lp + "?status=pending", KEY)).size());
        assertEquals(
                List.of(created.get(5), created.get(3), created.get(1)),
                ids(api.get(lp + "?kind=request_review", KEY)));
        assertEquals(List.of(created.get(3)), ids(api.get(lp + "?run_id=" + runId, KEY)));
        assertEquals(List.of(created.get(5)), ids(api.get(lp + "?target_user_id=prin_someone_else", KEY)));
        List<String> inbox = ids(api.get(lp + "?inbox=true", KEY));
        assertEquals(6, inbox.size());
        assertFalse(inbox.contains(created.get(5)), "an interaction for someone else is not in the caller's inbox");
        assertEquals(7, ids(api.get(lp + "?inbox=false", KEY)).size());
        assertEquals(
                List.of(created.get(6), created.get(5), created.get(4)), ids(api.get(lp + "?tag=batch:second", KEY)));
        assertEquals(List.of(created.get(5)), ids(api.get(lp + "?tag=batch:second&kind=request_review", KEY)));

        Api.Reply badStatus = api.get(lp + "?status=open", KEY);
        assertEquals("invalid_parameter", badStatus.errorCode());
        assertEquals(List.of("status: must be one of pending, completed, expired, cancelled"), fieldsOf(badStatus));
        assertEquals("invalid_parameter", api.get(lp + "?kind=chat", KEY).errorCode());
        assertEquals("invalid_parameter", api.get(lp + "?limit=201", KEY).errorCode());
        String firstCursor =
                api.get(lp + "?limit=1", KEY).json().get("next_cursor").asText();
        assertEquals(
                "invalid_cursor",
                api.get(lp + "?status=pending&cursor=" + firstCursor, KEY).errorCode(),
                "a cursor belongs to its filters");
        assertEquals("invalid_cursor", api.get(lp + "?cursor=nope", KEY).errorCode());
    }

    static List<String> ids(Api.Reply r) {
        assertEquals(200, r.status(), r.toString());
        List<String> out = new ArrayList<>();
        r.json().get("items").forEach(i -> out.add(i.get("id").asText()));
        return out;
    }

    // ---- answers and policies --------------------------------------------------------------

    @Test
    void anyOfResolvesOnTheFirstAnswerAndThenRefusesMore() {
        String id = create(
                        "desk",
                        body(
                                "kind",
                                "request_approval",
                                "title",
                                "Ship?",
                                "spec",
                                Map.of("mode", "confirm"),
                                "target_user_ids",
                                List.of(alice.principalId(), bob.principalId())))
                .get("id")
                .asText();
        Api.Reply wrong = respond(id, alice.raw(), "yes");
        assertEquals(List.of("value: must be true or false (mode confirm)"), fieldsOf(wrong));
        Api.Reply done =
                api.post(P + "/interactions/" + id + "/respond", alice.raw(), Map.of("value", true, "comment", "fine"));
        assertEquals(200, done.status(), done.toString());
        JsonNode i = done.json();
        assertEquals("completed", i.get("status").asText());
        assertTrue(i.get("outcome").asBoolean());
        assertEquals(alice.principalId(), i.get("responder").get("user_id").asText());
        assertEquals("any_of", i.get("resolved_by").asText());
        assertNotNull(i.get("completed_at"));
        JsonNode response = i.get("responses").get(0);
        assertEquals(i.get("resolving_response_id").asText(), response.get("id").asText());
        assertTrue(response.get("id").asText().startsWith("iresp_"));
        assertEquals("response", response.get("response_kind").asText());
        assertEquals("submitted", response.get("state").asText());
        assertEquals("fine", response.get("comment").asText());

        Api.Reply late = respond(id, bob.raw(), false);
        assertEquals(409, late.status());
        assertEquals("interaction_not_pending", late.errorCode());
        assertEquals(
                "interaction \"" + id + "\" is completed, not pending",
                late.json().get("error").get("message").asText());
    }

    @Test
    void allOfWaitsForEveryTargetAndTakesTheLastValue() {
        String id = create(
                        "desk",
                        body(
                                "kind",
                                "request_information",
                                "title",
                                "Regions?",
                                "spec",
                                Map.of(
                                        "mode",
                                        "multi_select",
                                        "options",
                                        List.of(
                                                Map.of("value", "us", "label", "US"),
                                                Map.of("value", "eu", "label", "EU"))),
                                "resolution_policy",
                                Map.of("type", "all_of"),
                                "target_user_ids",
                                List.of(alice.principalId(), bob.principalId())))
                .get("id")
                .asText();
        assertEquals(
                List.of("value: must be an array of distinct option values (mode multi_select)"),
                fieldsOf(respond(id, alice.raw(), List.of("us", "us"))));
        JsonNode first = respond(id, alice.raw(), List.of("us")).json();
        assertEquals("pending", first.get("status").asText());
        assertEquals(1, first.get("responses").size());
        assertFalse(first.has("outcome"));

        Api.Reply twice = respond(id, alice.raw(), List.of("eu"));
        assertEquals(409, twice.status());
        assertEquals("already_responded", twice.errorCode());

        Api.Reply outsider = respond(id, carol.raw(), List.of("eu"));
        assertEquals(403, outsider.status());
        assertEquals("not_a_target", outsider.errorCode());
        assertEquals(
                "principal \"" + carol.principalId() + "\" is not a target of interaction \"" + id + "\"",
                outsider.json().get("error").get("message").asText());

        JsonNode done = respond(id, bob.raw(), List.of("eu", "us")).json();
        assertEquals("completed", done.get("status").asText());
        assertEquals("all_of", done.get("resolved_by").asText());
        assertEquals(
                List.of("eu", "us"),
                List.of(
                        done.get("outcome").get(0).asText(),
                        done.get("outcome").get(1).asText()));
        assertEquals(bob.principalId(), done.get("responder").get("user_id").asText());
        assertEquals(2, done.get("responses").size());
    }

    @Test
    void quorumOfTwoOutOfThreeResolvesOnTheSecondAnswer() {
        String id = create(
                        "desk",
                        body(
                                "kind",
                                "request_review",
                                "title",
                                "Good?",
                                "spec",
                                Map.of(
                                        "mode",
                                        "select",
                                        "options",
                                        List.of(
                                                Map.of("value", "good", "label", "Good"),
                                                Map.of("value", "bad", "label", "Bad"))),
                                "resolution_policy",
                                Map.of("type", "quorum", "threshold", 2),
                                "target_user_ids",
                                List.of(alice.principalId(), bob.principalId(), carol.principalId())))
                .get("id")
                .asText();
        assertEquals(
                List.of("value: must be one of the option values (mode select)"),
                fieldsOf(respond(id, carol.raw(), "meh")));
        assertEquals(
                "pending", respond(id, carol.raw(), "bad").json().get("status").asText());
        JsonNode done = respond(id, alice.raw(), "good").json();
        assertEquals("completed", done.get("status").asText());
        assertEquals("quorum", done.get("resolved_by").asText());
        assertEquals("good", done.get("outcome").asText());
        assertEquals(2, done.get("resolution_policy").get("threshold").asInt());
        assertEquals("interaction_not_pending", respond(id, bob.raw(), "good").errorCode());
    }

    @Test
    void concurrentAnswersNeverBothResolveNorGetLost() throws Exception {
        List<Fixtures.Key> crowd = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            crowd.add(fx.key("desk", "voter-" + i));
        }
        // any_of: exactly one of the simultaneous answers resolves; the others see it finished.
        String anyOf = create(
                        "desk", body("kind", "request_information", "title", "First!", "spec", Map.of("mode", "input")))
                .get("id")
                .asText();
        Map<Integer, Integer> statuses =
                race(crowd, k -> respond(anyOf, k.raw(), "me").status());
        assertEquals(1, statuses.getOrDefault(200, 0), statuses.toString());
        assertEquals(5, statuses.getOrDefault(409, 0), statuses.toString());
        JsonNode one = api.get(P + "/interactions/" + anyOf, KEY).json();
        assertEquals(1, one.get("responses").size());
        assertEquals(
                one.get("responses").get(0).get("id").asText(),
                one.get("resolving_response_id").asText());

        // quorum 3 of six simultaneous answers: exactly three are recorded, the third resolves.
        String quorum = create(
                        "desk",
                        body(
                                "kind",
                                "request_information",
                                "title",
                                "Three",
                                "spec",
                                Map.of("mode", "input"),
                                "resolution_policy",
                                Map.of("type", "quorum", "threshold", 3)))
                .get("id")
                .asText();
        statuses = race(crowd, k -> respond(quorum, k.raw(), k.principalId()).status());
        assertEquals(3, statuses.getOrDefault(200, 0), statuses.toString());
        assertEquals(3, statuses.getOrDefault(409, 0), statuses.toString());
        JsonNode three = api.get(P + "/interactions/" + quorum, KEY).json();
        assertEquals("completed", three.get("status").asText());
        assertEquals(3, three.get("responses").size());
        assertEquals(
                three.get("responses").get(2).get("id").asText(),
                three.get("resolving_response_id").asText());
        assertEquals(
                three.get("responses").get(2).get("value").asText(),
                three.get("outcome").asText());
    }

    private static Map<Integer, Integer> race(
            List<Fixtures.Key> keys, java.util.function.Function<Fixtures.Key, Integer> call) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(keys.size());
        CountDownLatch go = new CountDownLatch(1);
        List<Future<Integer>> results = new ArrayList<>();
        for (Fixtures.Key k : keys) {
            Callable<Integer> task = () -> {
                go.await();
                return call.apply(k);
            };
            results.add(pool.submit(task));
        }
        go.countDown();
        Map<Integer, Integer> statuses = new HashMap<>();
        for (Future<Integer> f : results) {
            statuses.merge(f.get(), 1, Integer::sum);
        }
        pool.shutdown();
        return statuses;
    }

    // ---- cancel and delete -----------------------------------------------------------------

    @Test
    void cancelRecordsTheReasonAndOnlyWorksOnPending() {
        String id = create("desk", body("kind", "request_information", "title", "Anyone?"))
                .get("id")
                .asText();
        JsonNode cancelled = api.post(P + "/interactions/" + id + "/cancel", KEY, Map.of("reason", "asked elsewhere"))
                .json();
        assertEquals("cancelled", cancelled.get("status").asText());
        assertEquals("asked elsewhere", cancelled.get("cancel_reason").asText());
        Api.Reply again = api.post(P + "/interactions/" + id + "/cancel", KEY, null);
        assertEquals(409, again.status());
        assertEquals(
                "interaction \"" + id + "\" is cancelled, not pending",
                again.json().get("error").get("message").asText());
        assertEquals("interaction_not_pending", respond(id, alice.raw(), "x").errorCode());
        // No body at all is a cancel without reason.
        String other = create("desk", body("kind", "request_information", "title", "Anyone else?"))
                .get("id")
                .asText();
        JsonNode plain = api.call(
                        "POST",
                        P + "/interactions/" + other + "/cancel",
                        KEY,
                        null,
                        Map.of("Content-Type", "application/json"))
                .json();
        assertEquals("cancelled", plain.get("status").asText());
        assertFalse(plain.has("cancel_reason"));
    }

    @Test
    void agentPrincipalsCannotCancelButMayAnswer() {
        Fixtures.Key agent = fx.key("desk", "helper-agent");
        server.server()
                .database()
                .jdbi()
                .useHandle(h -> h.execute("UPDATE principals SET kind = 'agent' WHERE id = ?", agent.principalId()));
        String id = create("desk", body("kind", "request_information", "title", "Agents?"))
                .get("id")
                .asText();
        Api.Reply refused = api.post(P + "/interactions/" + id + "/cancel", agent.raw(), Map.of());
        assertEquals(403, refused.status());
        assertEquals("agents_cannot_cancel", refused.errorCode());
        assertEquals(
                "agent principals may not cancel interactions",
                refused.json().get("error").get("message").asText());
        assertEquals(
                "pending",
                api.get(P + "/interactions/" + id, KEY).json().get("status").asText());
        assertEquals(200, respond(id, agent.raw(), "I can help").status());
    }

    @Test
    void onlyFinishedInteractionsCanBeDeletedAndThenTheyAreGone() {
        String id = create("desk", body("kind", "request_information", "title", "Delete me?"))
                .get("id")
                .asText();
        Api.Reply pending = api.delete(P + "/interactions/" + id, KEY);
        assertEquals(400, pending.status());
        assertEquals("interaction_not_terminal", pending.errorCode());
        assertEquals(200, respond(id, alice.raw(), "yes").status());
        assertEquals(204, api.delete(P + "/interactions/" + id, KEY).status());
        assertEquals(404, api.get(P + "/interactions/" + id, KEY).status());
        assertEquals(404, api.delete(P + "/interactions/" + id, KEY).status());
        assertEquals(404, respond(id, bob.raw(), "x").status());
        assertFalse(ids(api.get(P + "/interactions?limit=200", KEY)).contains(id));
        // The row stays, marked deleted.
        assertEquals(1, (int) server.server()
                .database()
                .jdbi()
                .withHandle(h -> h.createQuery(
                                "SELECT count(*) FROM interactions WHERE id = :id AND deleted_at IS NOT NULL")
                        .bind("id", id)
                        .mapTo(Integer.class)
                        .one()));
    }

    @Test
    void everyCommandWritesAnAuditEntry() {
        String id = create("desk", body("kind", "request_information", "title", "Audited"))
                .get("id")
                .asText();
        respond(id, alice.raw(), "answer");
        api.delete(P + "/interactions/" + id, KEY);
        String other = create("desk", body("kind", "request_information", "title", "Audited too"))
                .get("id")
                .asText();
        api.post(P + "/interactions/" + other + "/cancel", KEY, Map.of());
        List<String> actions = new ArrayList<>();
        api.get(P + "/audit-logs?resource_type=interaction&limit=200", KEY)
                .json()
                .get("items")
                .forEach(e -> {
                    String rid = e.get("resource_id").asText();
                    if (rid.equals(id) || rid.equals(other)) {
                        actions.add(e.get("action").asText() + " " + (rid.equals(id) ? "first" : "second"));
                    }
                });
        java.util.Collections.reverse(actions);
        assertEquals(
                List.of("create first", "update first", "delete first", "create second", "update second"), actions);
    }

    // ---- isolation and expiry --------------------------------------------------------------

    @Test
    void aKeyOfAnotherProjectFindsNothing() {
        fx.project("Outside");
        Fixtures.Key outsider = fx.key("outside", "outsider");
        String id = create("desk", body("kind", "request_information", "title", "Private"))
                .get("id")
                .asText();
        // Its own project does not hold the interaction, and desk is out of its reach.
        for (String project : List.of("outside", "desk")) {
            String base = "/v1/projects/" + project + "/interactions/" + id;
            assertEquals(404, api.get(base, outsider.raw()).status(), project);
            assertEquals(
                    404,
                    api.post(base + "/respond", outsider.raw(), Map.of("value", "x"))
                            .status(),
                    project);
            assertEquals(
                    404, api.post(base + "/cancel", outsider.raw(), Map.of()).status(), project);
            assertEquals(404, api.delete(base, outsider.raw()).status(), project);
        }
        assertEquals(
                0,
                ids(api.get("/v1/projects/outside/interactions", outsider.raw()))
                        .size());
        assertEquals(
                "pending",
                api.get(P + "/interactions/" + id, KEY).json().get("status").asText());
    }

    @Test
    void expiresOnTimeAndRefusesAnswersAfterwards() throws Exception {
        OffsetDateTime expiresAt = OffsetDateTime.now(ZoneOffset.UTC).plusSeconds(2);
        String id = create(
                        "desk",
                        body("kind", "request_information", "title", "Quick!", "expires_at", expiresAt.toString()))
                .get("id")
                .asText();
        String status = "pending";
        while (status.equals("pending") && OffsetDateTime.now().isBefore(expiresAt.plusSeconds(5))) {
            Thread.sleep(50);
            status =
                    api.get(P + "/interactions/" + id, KEY).json().get("status").asText();
        }
        long lateMillis =
                java.time.Duration.between(expiresAt, OffsetDateTime.now()).toMillis();
        assertEquals("expired", status);
        assertTrue(lateMillis < 1200, "expired " + lateMillis + " ms after expires_at");
        Api.Reply late = respond(id, alice.raw(), "too late");
        assertEquals(
                "interaction \"" + id + "\" is expired, not pending",
                late.json().get("error").get("message").asText());
        assertEquals(204, api.delete(P + "/interactions/" + id, KEY).status());
    }

    @Test
    void answeringAfterTheDeadlineBeforeTheExpirerRanCountsAsExpired() {
        String id = create("desk", body("kind", "request_information", "title", "Deadline"))
                .get("id")
                .asText();
        server.server()
                .database()
                .jdbi()
                .useHandle(h -> h.execute(
                        "UPDATE interactions SET expires_at = clock_timestamp() - interval '1 millisecond' WHERE id = ?",
                        id));
        Api.Reply late = respond(id, alice.raw(), "now?");
        // Either the expirer got there first or the answer itself found the deadline passed: both say expired.
        assertEquals(409, late.status(), late.toString());
        assertEquals(
                "interaction \"" + id + "\" is expired, not pending",
                late.json().get("error").get("message").asText());
        assertEquals(
                "expired",
                api.get(P + "/interactions/" + id, KEY).json().get("status").asText());
    }

    // ---- helpers ----------------------------------------------------------------------------

    /** A run of a one-step automation that waits for a signal, once it is suspended. @return its id */
    static String suspendedRun(Api api, String project, String handle) throws InterruptedException {
        String base = "/v1/projects/" + project + "/automations";
        assertEquals(
                201,
                api.post(base, KEY, Map.of("handle", handle, "name", handle)).status());
        Map<String, Object> spec = Map.of(
                "steps",
                List.of(Map.of("key", "wait", "kind", "wait_for_event", "config", Map.of("event_type", "signal"))));
        assertEquals(
                201,
                api.post(base + "/" + handle + "/versions", KEY, Map.of("spec", spec))
                        .status());
        assertEquals(
                200,
                api.post(base + "/" + handle + "/versions/1/publication", KEY, null)
                        .status());
        String id = api.post(base + "/" + handle + "/runs", KEY, null)
                .json()
                .get("id")
                .asText();
        for (int i = 0; i < 150; i++) {
            if (api.get("/v1/projects/" + project + "/runs/" + id, KEY)
                    .json()
                    .get("status")
                    .asText()
                    .equals("suspended")) {
                return id;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("run " + id + " did not suspend");
    }
}
