package dev.mobius.server.interactions;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mobius.server.Api;
import dev.mobius.server.Fixtures;
import dev.mobius.server.SharedServerTest;
import dev.mobius.server.TestServer;
import dev.mobius.server.audit.AuditTrail;
import dev.mobius.server.http.ApiException;
import dev.mobius.server.http.Cursors;
import dev.mobius.server.ids.Ids;
import dev.mobius.server.json.Json;
import dev.mobius.server.time.Times;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What the run engine calls: opening an interaction for a step, reading its resolution, cancelling
 * a run's open interactions, and the wake-up of a waiting run when an interaction it consumes
 * leaves pending. Runs waiting in a wait_for_event step stand in for interaction steps here: the
 * engine looks at a due run and, finding it still waiting, records that it looked (updated_at).
 */
class InteractionRunHooksTest extends SharedServerTest {
    static final String KEY = TestServer.BOOTSTRAP_KEY;
    static final String P = "/v1/projects/hooks";
    static Jdbi jdbi;
    static InteractionService service;
    static Fixtures.Key approver;

    @BeforeAll
    static void setUp() {
        Fixtures fx = new Fixtures(api, KEY);
        fx.project("Hooks");
        approver = fx.key("hooks", "approver");
        jdbi = server.server().database().jdbi();
        Ids ids = new Ids();
        service = new InteractionService(
                jdbi,
                ids,
                Json.newMapper(),
                new AuditTrail(ids, Json.newMapper()),
                new Cursors(new byte[32]),
                new InteractionViews(Json.newMapper()),
                () -> {},
                dev.mobius.server.events.Lifecycle.NONE,
                new dev.mobius.server.outbound.OutboundGuard(true),
                null);
    }

    record Run(String id, String orgId, String projectId) {}

    static Run suspendedRun(String handle) throws InterruptedException {
        String id = InteractionsTest.suspendedRun(api, "hooks", handle);
        JsonNode run = api.get(P + "/runs/" + id, KEY).json();
        return new Run(id, run.get("org_id").asText(), run.get("project_id").asText());
    }

    static Map<String, Object> config(Object... keyValues) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < keyValues.length; i += 2) {
            m.put((String) keyValues[i], keyValues[i + 1]);
        }
        return m;
    }

    static String open(Run run, String stepKey, Map<String, Object> config) {
        return jdbi.inTransaction(
                h -> service.openForRunStep(h, run.orgId(), run.projectId(), run.id(), stepKey, config, Times.now()));
    }

    static OffsetDateTime runUpdatedAt(Run run) {
        return jdbi.withHandle(h -> h.createQuery("SELECT updated_at FROM runs WHERE id = :id")
                .bind("id", run.id())
                .mapTo(OffsetDateTime.class)
                .one());
    }

    /** Waits until the engine has looked at the run again (its updated_at moved past {@code before}). */
    static boolean engineLooked(Run run, OffsetDateTime before, long millis) throws InterruptedException {
        long deadline = System.currentTimeMillis() + millis;
        while (System.currentTimeMillis() < deadline) {
            if (runUpdatedAt(run).isAfter(before)) {
                return true;
            }
            Thread.sleep(50);
        }
        return false;
    }

    @Test
    void aStepInteractionIsConsumedByItsRunAndAnAnswerWakesTheRun() throws Exception {
        Run run = suspendedRun("approve-step");
        String id = open(
                run,
                "wait",
                config(
                        "protocol",
                        "request_approval",
                        "targets",
                        List.of(approver.principalId()),
                        "prompt",
                        "Release 3.1?",
                        "resolution_policy",
                        "quorum:1",
                        "spec",
                        Map.of("mode", "confirm"),
                        "expires_in",
                        "1h"));
        JsonNode i = api.get(P + "/interactions/" + id, KEY).json();
        assertEquals("pending", i.get("status").asText());
        assertEquals("request_approval", i.get("kind").asText());
        assertEquals("Release 3.1?", i.get("title").asText());
        assertEquals(
                List.of(approver.principalId()),
                List.of(i.get("target_user_ids").get(0).asText()));
        assertEquals("quorum", i.get("resolution_policy").get("type").asText());
        assertEquals(1, i.get("resolution_policy").get("threshold").asInt());
        assertEquals(run.id(), i.get("run_id").asText());
        assertEquals("wait", i.get("signal_name").asText());
        assertEquals("run", i.get("consumer").get("kind").asText());
        assertEquals(run.id(), i.get("consumer").get("run").get("run_id").asText());
        assertEquals("wait", i.get("consumer").get("run").get("signal_name").asText());
        assertFalse(i.has("created_by"));
        Duration ttl = Duration.between(
                OffsetDateTime.now(), OffsetDateTime.parse(i.get("expires_at").asText()));
        assertTrue(
                ttl.compareTo(Duration.ofMinutes(59)) > 0 && ttl.compareTo(Duration.ofMinutes(61)) < 0, ttl.toString());
        assertEquals(Optional.empty(), jdbi.withHandle(h -> service.resolutionForRun(h, id)));

        OffsetDateTime before = runUpdatedAt(run);
        Thread.sleep(300);
        assertEquals(before, runUpdatedAt(run), "a suspended run waiting for a signal is left alone");
        Api.Reply answered = api.post(
                P + "/interactions/" + id + "/respond", approver.raw(), Map.of("value", true, "comment", "go"));
        assertEquals(200, answered.status(), answered.toString());
        assertTrue(engineLooked(run, before, 5000), "answering made the run due");

        Map<String, Object> resolution =
                jdbi.withHandle(h -> service.resolutionForRun(h, id)).orElseThrow();
        assertEquals("completed", resolution.get("status"));
        assertEquals(id, resolution.get("interaction_id"));
        assertEquals(true, resolution.get("outcome"));
        assertEquals("go", resolution.get("comment"));
        assertEquals(Map.of("user_id", approver.principalId()), resolution.get("responder"));
        assertEquals("quorum", resolution.get("resolved_by"));
        List<?> responses = (List<?>) resolution.get("responses");
        assertEquals(1, responses.size());
        Map<?, ?> response = (Map<?, ?>) responses.get(0);
        assertEquals(approver.principalId(), response.get("responder_user_id"));
        assertEquals(true, response.get("value"));
        assertEquals("go", response.get("comment"));
    }

    @Test
    void cancellingOrExpiringAStepInteractionWakesTheRunToo() throws Exception {
        Run run = suspendedRun("cancel-step");
        String cancelled = open(
                run, "wait", config("protocol", "request_information", "targets", List.of(approver.principalId())));
        JsonNode i = api.get(P + "/interactions/" + cancelled, KEY).json();
        assertEquals(InteractionService.DEFAULT_TITLE, i.get("title").asText());
        assertEquals("any_of", i.get("resolution_policy").get("type").asText());
        assertFalse(i.has("expires_at"));
        OffsetDateTime before = runUpdatedAt(run);
        assertEquals(
                200,
                api.post(P + "/interactions/" + cancelled + "/cancel", KEY, Map.of("reason", "not needed"))
                        .status());
        assertTrue(engineLooked(run, before, 5000), "cancelling made the run due");
        assertEquals(
                Map.of("status", "cancelled", "interaction_id", cancelled, "reason", "not needed"),
                jdbi.withHandle(h -> service.resolutionForRun(h, cancelled)).orElseThrow());

        String expiring = open(
                run,
                "wait",
                config("protocol", "request_review", "targets", List.of(approver.principalId()), "expires_in", "1s"));
        OffsetDateTime beforeExpiry = runUpdatedAt(run);
        assertTrue(engineLooked(run, beforeExpiry, 5000), "expiry made the run due");
        assertEquals(
                "expired",
                api.get(P + "/interactions/" + expiring + "", KEY)
                        .json()
                        .get("status")
                        .asText());
        assertEquals(
                Map.of("status", "expired", "interaction_id", expiring),
                jdbi.withHandle(h -> service.resolutionForRun(h, expiring)).orElseThrow());
    }

    @Test
    void interactionsCreatedThroughTheApiDoNotWakeTheirRun() throws Exception {
        Run run = suspendedRun("api-backed");
        Api.Reply created = api.post(
                P + "/interactions",
                KEY,
                Map.of("kind", "request_review", "title", "Recorded only", "run_id", run.id(), "signal_name", "wait"));
        assertEquals(201, created.status(), created.toString());
        String id = created.json().get("id").asText();
        OffsetDateTime before = runUpdatedAt(run);
        assertEquals(
                200,
                api.post(P + "/interactions/" + id + "/respond", approver.raw(), Map.of("value", "ok"))
                        .status());
        assertFalse(engineLooked(run, before, 1000), "the run was not woken");
        assertEquals(
                "suspended",
                api.get(P + "/runs/" + run.id(), KEY).json().get("status").asText());
    }

    @Test
    void cancelOpenForRunCancelsOnlyThatRunsPendingInteractions() throws Exception {
        Run run = suspendedRun("run-cancel");
        Run other = suspendedRun("run-cancel-other");
        Map<String, Object> config =
                config("protocol", "request_information", "targets", List.of(approver.principalId()));
        String first = open(run, "wait", config);
        String second = open(run, "wait", config);
        String answered = open(run, "wait", config);
        String foreign = open(other, "wait", config);
        assertEquals(
                200,
                api.post(P + "/interactions/" + answered + "/respond", approver.raw(), Map.of("value", "done"))
                        .status());

        jdbi.useTransaction(h -> service.cancelOpenForRun(h, run.id(), "run cancelled"));
        for (String id : List.of(first, second)) {
            JsonNode i = api.get(P + "/interactions/" + id, KEY).json();
            assertEquals("cancelled", i.get("status").asText());
            assertEquals("run cancelled", i.get("cancel_reason").asText());
        }
        assertEquals(
                "completed",
                api.get(P + "/interactions/" + answered, KEY)
                        .json()
                        .get("status")
                        .asText());
        assertEquals(
                "pending",
                api.get(P + "/interactions/" + foreign, KEY)
                        .json()
                        .get("status")
                        .asText());
        JsonNode list = api.get(P + "/interactions?run_id=" + run.id() + "&status=cancelled", KEY)
                .json();
        assertEquals(2, list.get("items").size());
    }

    @Test
    void stepConfigsAreCheckedWithTheirPaths() {
        assertEquals(
                List.of(),
                InteractionService.validateStepConfig(
                        config(
                                "protocol",
                                "request_review",
                                "targets",
                                List.of("prin_a", "prin_b"),
                                "prompt",
                                "Check",
                                "resolution_policy",
                                "quorum:2",
                                "spec",
                                Map.of("mode", "select", "options", List.of(Map.of("value", "ok", "label", "OK"))),
                                "expires_in",
                                "24h"),
                        "spec.steps[2].config"));
        List<String> problems = InteractionService.validateStepConfig(
                        config(
                                "protocol",
                                "request_everything",
                                "targets",
                                List.of(),
                                "prompt",
                                3,
                                "resolution_policy",
                                "majority",
                                "spec",
                                Map.of("mode", "chat", "colour", "red"),
                                "expires_in",
                                "soon",
                                "extra",
                                true),
                        "spec.steps[2].config")
                .stream()
                .map(e -> e.field() + ": " + e.reason())
                .toList();
        assertEquals(
                List.of(
                        "spec.steps[2].config.expires_in: must be a duration such as 30s, 5m or 2h",
                        "spec.steps[2].config.extra: unknown field",
                        "spec.steps[2].config.prompt: must be a string",
                        "spec.steps[2].config.protocol: must be one of request_information, request_approval, request_review",
                        "spec.steps[2].config.resolution_policy: must be any_of, all_of, quorum or quorum:<number of answers>",
                        "spec.steps[2].config.spec.colour: unknown field",
                        "spec.steps[2].config.spec.mode: must be one of confirm, select, multi_select, input",
                        "spec.steps[2].config.targets: must hold at least one target"),
                problems);
        List<String> more = InteractionService.validateStepConfig(
                        config(
                                "protocol",
                                "request_approval",
                                "targets",
                                List.of("prin_a", "prin_a"),
                                "resolution_policy",
                                "quorum:3",
                                "spec",
                                Map.of("mode", "input"),
                                "expires_in",
                                "0s"),
                        "config")
                .stream()
                .map(e -> e.field() + ": " + e.reason())
                .toList();
        assertEquals(
                List.of(
                        "config.expires_in: must be longer than 0s",
                        "config.resolution_policy: quorum needs 1 to 2 answers (the number of targets)",
                        "config.spec.mode: must be confirm or select for kind request_approval",
                        "config.targets[1]: duplicate target \"prin_a\""),
                more);
        assertEquals(
                List.of("config.protocol: is required", "config.targets: must hold at least one target"),
                InteractionService.validateStepConfig(Map.of(), "config").stream()
                        .map(e -> e.field() + ": " + e.reason())
                        .toList());
        assertEquals(new InteractionRules.Policy("quorum", 2), InteractionRules.stepPolicy("quorum", 3));
        assertEquals(new InteractionRules.Policy("quorum", 3), InteractionRules.stepPolicy("quorum", 4));
        assertEquals(new InteractionRules.Policy("all_of", null), InteractionRules.stepPolicy("all_of", 4));
        assertEquals(new InteractionRules.Policy("any_of", null), InteractionRules.stepPolicy(null, 4));
    }

    @Test
    void anInvalidStepConfigOpensNothing() throws Exception {
        Run run = suspendedRun("invalid-step");
        ApiException failure =
                assertThrows(ApiException.class, () -> open(run, "wait", config("protocol", "request_approval")));
        assertEquals("validation_failed", failure.code());
        assertEquals(
                0,
                api.get(P + "/interactions?run_id=" + run.id(), KEY)
                        .json()
                        .get("items")
                        .size());
    }
}
