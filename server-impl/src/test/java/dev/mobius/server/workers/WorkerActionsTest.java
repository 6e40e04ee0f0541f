package dev.mobius.server.workers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mobius.client.worker.Worker;
import dev.mobius.server.Api;
import dev.mobius.server.Fixtures;
import dev.mobius.server.SharedServerTest;
import dev.mobius.server.TestServer;
import dev.mobius.server.TwoNodes;
import java.net.URI;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Worker actions are first-class: a worker's registration defines the actions it runs, as in the
 * seed-era SDKs (their README registers {@code send_email} with no createAction call). A version
 * may name such an action with {@code execution_location: worker}, also before any worker
 * registered it; the catalogue lists what workers registered; a step no live worker serves waits
 * in the queue under its timeout.
 */
class WorkerActionsTest extends SharedServerTest {
    static final String KEY = TestServer.BOOTSTRAP_KEY;
    static final Map<String, Object> ECHO_SCHEMA = Map.of(
            "type",
            "object",
            "required",
            List.of("message"),
            "properties",
            Map.of("message", Map.of("type", "string")));
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The SDK scenario: register a handler for sdk.echo (no createAction), name it in a version, run it. */
    @Test
    void aStepRunsAnActionTheWorkerRegisteredWithoutCreatingIt() throws Exception {
        String project = new Fixtures(api, KEY).project("wa-sdk-scenario");
        String p = "/v1/projects/" + project;
        try (Worker worker = echoWorker(server.baseUrl(), project, "sdk-box")) {
            worker.start();
            assertTrue(worker.awaitRegistered(Duration.ofSeconds(10)));

            createAndPublish(p, "echo", echoStep(null));
            String runId = api.post(p + "/automations/echo/runs", KEY, Map.of("inputs", Map.of("message", "hello")))
                    .json()
                    .get("id")
                    .asText();
            JsonNode run = api.awaitRun(
                    p + "/runs/" + runId, KEY, r -> terminal(r.get("status").asText()), 200, 50);
            assertEquals("completed", run.get("status").asText(), run.toString());
            assertEquals(
                    "hello",
                    run.get("result").get("echoed").get("echo").get("message").asText(),
                    run.toString());
            assertEquals(
                    "sdk.echo", run.get("result").get("echoed").get("action").asText());
            JsonNode invocations = api.get(p + "/action-invocations?run_id=" + runId, KEY)
                    .json()
                    .get("items");
            assertEquals(1, invocations.size());
            assertEquals("sdk.echo", invocations.get(0).get("action_name").asText());
            assertEquals("completed", invocations.get(0).get("status").asText());

            // What the worker registered is in the catalogue, with the schema it sent.
            JsonNode entry = api.get(p + "/catalog/actions/sdk.echo", KEY).json();
            assertEquals("worker", entry.get("source").asText(), entry.toString());
            assertEquals("worker", entry.get("endpoint_kind").asText());
            assertEquals("ready", entry.get("readiness").asText());
            assertEquals(JSON.valueToTree(ECHO_SCHEMA), entry.get("input_schema"));
            assertEquals(List.of("worker"), texts(entry.get("execution").get("supported_locations")));
            assertEquals(
                    "worker", entry.get("execution").get("default_location").asText());
            OffsetDateTime seen = OffsetDateTime.parse(entry.get("last_seen_at").asText());
            assertTrue(seen.isAfter(OffsetDateTime.now().minusMinutes(1)), entry.toString());
            JsonNode items = api.get(p + "/catalog/actions", KEY).json().get("items");
            List<String> names = new ArrayList<>();
            items.forEach(i -> names.add(i.get("name").asText()));
            assertEquals(
                    "sdk.echo",
                    names.get(names.size() - 1),
                    "worker actions come after platform and project actions: " + names);
            assertEquals(entry, items.get(items.size() - 1));

            // A catalogue entry can be invoked directly as well: a job for the worker.
            Api.Reply invoked = api.post(
                    p + "/actions/sdk.echo/invocations",
                    KEY,
                    Map.of("input", Map.of("message", "direct"), "timeout_seconds", 20));
            assertEquals(200, invoked.status(), invoked.toString());
            assertEquals("completed", invoked.json().get("status").asText(), invoked.toString());
            assertEquals(
                    "direct",
                    invoked.json().get("output").get("echo").get("message").asText());
        }
    }

    @Test
    void aRunStartedBeforeAnyWorkerWaitsAndCompletesOnceOneRegisters() throws Exception {
        String project = new Fixtures(api, KEY).project("wa-waits");
        String p = "/v1/projects/" + project;
        // No worker has ever connected: the name is unknown to the catalogue, yet the version is valid.
        assertEquals(404, api.get(p + "/catalog/actions/sdk.echo", KEY).status());
        createAndPublish(p, "echo", echoStep(null));
        String runId = api.post(p + "/automations/echo/runs", KEY, Map.of("inputs", Map.of("message", "later")))
                .json()
                .get("id")
                .asText();
        JsonNode waiting = api.awaitRun(
                p + "/runs/" + runId, KEY, r -> r.get("status").asText().equals("suspended"), 100, 50);
        assertEquals("suspended", waiting.get("status").asText(), waiting.toString());
        JsonNode invocation = api.get(p + "/action-invocations?run_id=" + runId, KEY)
                .json()
                .get("items")
                .get(0);
        assertEquals("pending", invocation.get("status").asText(), "the job waits in the queue: " + invocation);
        assertTrue(invocation.has("job_id"));

        try (Worker worker = echoWorker(server.baseUrl(), project, "late-box")) {
            worker.start();
            JsonNode run = api.awaitRun(
                    p + "/runs/" + runId, KEY, r -> terminal(r.get("status").asText()), 200, 50);
            assertEquals("completed", run.get("status").asText(), run.toString());
            assertEquals(
                    "later",
                    run.get("result").get("echoed").get("echo").get("message").asText());
            assertEquals(1, worker.completedJobs());
        }
    }

    @Test
    void aStepNoWorkerServesFailsWithItsTimeoutAndItsJobIsCancelled() throws Exception {
        String project = new Fixtures(api, KEY).project("wa-timeout");
        String p = "/v1/projects/" + project;
        createAndPublish(p, "echo", echoStep("1s"));
        String runId = api.post(p + "/automations/echo/runs", KEY, Map.of("inputs", Map.of("message", "nobody")))
                .json()
                .get("id")
                .asText();
        JsonNode run = api.awaitRun(
                p + "/runs/" + runId, KEY, r -> terminal(r.get("status").asText()), 200, 50);
        assertEquals("failed", run.get("status").asText(), run.toString());
        assertEquals("step_timeout", run.get("error_type").asText(), run.toString());
        assertEquals(
                "step \"echo\" exceeded its timeout of 1s",
                run.get("error_message").asText());
        JsonNode invocation = api.get(p + "/action-invocations?run_id=" + runId, KEY)
                .json()
                .get("items")
                .get(0);
        assertEquals("cancelled", invocation.get("status").asText(), invocation.toString());
        assertEquals(
                "cancelled",
                WorkerSocketTest.job(server.server(), invocation.get("job_id").asText())
                        .get("status"));

        // A worker that connects afterwards is not handed the cancelled job.
        try (Worker worker = echoWorker(server.baseUrl(), project, "too-late")) {
            worker.start();
            assertTrue(worker.awaitRegistered(Duration.ofSeconds(10)));
            Thread.sleep(500);
            assertEquals(0, worker.completedJobs());
        }
    }

    @Test
    void versionCreateChecksWhatItCanOfWorkerActionSteps() {
        String project = new Fixtures(api, KEY).project("wa-validation");
        String p = "/v1/projects/" + project;
        assertEquals(
                201,
                api.post(p + "/automations", KEY, Map.of("handle", "v", "name", "v"))
                        .status());

        assertRefused(
                p,
                step("bad name!", "worker", Map.of()),
                "spec.steps[0].config.action_name",
                "must be a platform action, an action of this project or a worker action name "
                        + "(1 to 128 letters, digits, ., _ or -, starting with a letter or digit)");
        assertRefused(
                p,
                step("x".repeat(129), "worker", Map.of()),
                "spec.steps[0].config.action_name",
                "must be a platform action, an action of this project or a worker action name "
                        + "(1 to 128 letters, digits, ., _ or -, starting with a letter or digit)");
        assertRefused(
                p,
                step("mobius.echo", "worker", Map.of()),
                "spec.steps[0].config.action_name",
                "names starting with mobius. are reserved");
        // Without execution_location worker an unknown name is still unknown.
        assertRefused(
                p,
                step("sdk.echo", null, Map.of()),
                "spec.steps[0].config.action_name",
                "no action named \"sdk.echo\" exists in this project; an action only a worker runs needs execution_location worker");
        assertRefused(
                p,
                step("sdk.echo", "managed", Map.of()),
                "spec.steps[0].config.action_name",
                "no action named \"sdk.echo\" exists in this project; an action only a worker runs needs execution_location worker");
        // Platform names keep their meaning: json.transform does not run on workers.
        assertRefused(
                p,
                step("json.transform", "worker", Map.of()),
                "spec.steps[0].config.execution_location",
                "must be one of managed for action json.transform");
        // Parameters, timeout and retry are checked as for every step.
        Map<String, Object> broken =
                new LinkedHashMap<>(step("sdk.echo", "worker", Map.of("message", "{{ .inputs.message")));
        broken.put("timeout", Map.of("duration", "soon"));
        broken.put("retry", Map.of("max_attempts", 1000));
        Api.Reply reply =
                api.post(p + "/automations/v/versions", KEY, Map.of("spec", Map.of("steps", List.of(broken))));
        assertEquals(400, reply.status(), reply.toString());
        List<String> fields = new ArrayList<>();
        reply.json()
                .get("error")
                .get("details")
                .get("fields")
                .forEach(f -> fields.add(f.get("field").asText()));
        assertTrue(fields.contains("spec.steps[0].config.parameters.message"), fields.toString());
        assertTrue(fields.contains("spec.steps[0].timeout.duration"), fields.toString());
        assertTrue(fields.contains("spec.steps[0].retry.max_attempts"), fields.toString());
        assertFalse(fields.contains("spec.steps[0].config.action_name"), fields.toString());

        // The worker forms the SDKs use are accepted.
        for (String name : List.of("send_email", "sdk.echo", "Billing.Charge-V2", "9lives")) {
            Api.Reply ok = api.post(
                    p + "/automations/v/versions",
                    KEY,
                    Map.of("spec", Map.of("steps", List.of(step(name, "worker", Map.of())))));
            assertEquals(201, ok.status(), name + ": " + ok);
        }
    }

    /**
     * A worker speaking the raw frames of the SDKs on node A: its register and a later
     * {@code worker.ready} define the catalogue that node B (same database) serves; names that
     * belong to a platform or project action, or that are not in the worker form, are not listed.
     */
    @Test
    void theCatalogueComesFromStoredRegistrationsSoEveryNodeListsTheSame() throws Exception {
        try (TwoNodes nodes = TwoNodes.start()) {
            String project = new Fixtures(nodes.apiA, KEY).project("wa-two-nodes");
            String p = "/v1/projects/" + project;
            assertEquals(
                    201,
                    nodes.apiA
                            .post(
                                    p + "/actions",
                                    KEY,
                                    Map.of("name", "send-invoice", "endpoint_url", "https://example.com/i"))
                            .status());
            try (WsClient ws = new WsClient("http://127.0.0.1:" + nodes.a.port(), project, KEY)) {
                ws.send("{\"type\":\"worker.register\",\"message_id\":\"msg_1\",\"worker_instance_id\":\"raw-1\","
                        + "\"action_names\":[\"send_email\",\"json.transform\",\"send-invoice\",\"bad name!\"]}");
                assertEquals("worker.registered", ws.next().get("type").asText());
                assertEquals(List.of("send_email"), workerNames(nodes.apiB, p));
                JsonNode entry =
                        nodes.apiB.get(p + "/catalog/actions/send_email", KEY).json();
                assertFalse(entry.has("input_schema"), "the SDKs send no schema: " + entry);
                assertEquals(
                        "platform",
                        nodes.apiB
                                .get(p + "/catalog/actions/json.transform", KEY)
                                .json()
                                .get("source")
                                .asText());
                assertEquals(
                        "custom",
                        nodes.apiB
                                .get(p + "/catalog/actions/send-invoice", KEY)
                                .json()
                                .get("source")
                                .asText());

                ws.send(
                        "{\"type\":\"worker.ready\",\"message_id\":\"msg_2\",\"action_names\":[\"send_email\",\"fetch_url\"],"
                                + "\"action_input_schemas\":{\"fetch_url\":{\"type\":\"object\",\"required\":[\"url\"]},\"send_email\":\"not a schema\"}}");
                JsonNode fetch = null;
                for (int i = 0; i < 100; i++) {
                    Api.Reply r = nodes.apiB.get(p + "/catalog/actions/fetch_url", KEY);
                    if (r.status() == 200) {
                        fetch = r.json();
                        break;
                    }
                    Thread.sleep(50);
                }
                assertTrue(fetch != null, "worker.ready reached the catalogue of the other node");
                assertEquals(JSON.readTree("{\"type\":\"object\",\"required\":[\"url\"]}"), fetch.get("input_schema"));
                assertEquals(List.of("fetch_url", "send_email"), workerNames(nodes.apiB, p));
                assertFalse(nodes.apiB
                        .get(p + "/catalog/actions/send_email", KEY)
                        .json()
                        .has("input_schema"));
            }
        }
    }

    // ---- helpers --------------------------------------------------------------------------------

    /** The worker of the SDK scenario: registers sdk.echo (with its input schema) and nothing else. */
    static Worker echoWorker(String baseUrl, String project, String instance) {
        Worker worker = Worker.builder(URI.create(baseUrl), KEY, project)
                .instanceId(instance)
                .build();
        worker.register("sdk.echo", ECHO_SCHEMA, job -> Map.of("echo", job.parameters(), "action", job.actionName()));
        return worker;
    }

    private static Map<String, Object> echoStep(String timeout) {
        Map<String, Object> s =
                new LinkedHashMap<>(step("sdk.echo", "worker", Map.of("message", "{{ .inputs.message }}")));
        s.put("save_as", "echoed");
        if (timeout != null) {
            s.put("timeout", Map.of("duration", timeout, "on_timeout", "fail"));
        }
        return s;
    }

    private static Map<String, Object> step(String actionName, String location, Map<String, Object> parameters) {
        Map<String, Object> config = new LinkedHashMap<>();
        config.put("action_name", actionName);
        if (location != null) {
            config.put("execution_location", location);
        }
        config.put("parameters", parameters);
        return Map.of("key", "echo", "kind", "action", "config", config);
    }

    private static void createAndPublish(String p, String handle, Map<String, Object> step) {
        assertEquals(
                201,
                api.post(p + "/automations", KEY, Map.of("handle", handle, "name", handle))
                        .status());
        Api.Reply version = api.post(
                p + "/automations/" + handle + "/versions", KEY, Map.of("spec", Map.of("steps", List.of(step))));
        assertEquals(201, version.status(), version.toString());
        assertEquals(
                200,
                api.post(p + "/automations/" + handle + "/versions/1/publication", KEY, null)
                        .status());
    }

    private static void assertRefused(String p, Map<String, Object> step, String field, String reason) {
        Api.Reply reply = api.post(p + "/automations/v/versions", KEY, Map.of("spec", Map.of("steps", List.of(step))));
        assertEquals(400, reply.status(), reply.toString());
        assertEquals("validation_failed", reply.errorCode());
        JsonNode fields = reply.json().get("error").get("details").get("fields");
        assertEquals(1, fields.size(), fields.toString());
        assertEquals(field, fields.get(0).get("field").asText());
        assertEquals(reason, fields.get(0).get("reason").asText());
    }

    private static List<String> workerNames(Api api, String p) {
        List<String> names = new ArrayList<>();
        api.get(p + "/catalog/actions", KEY).json().get("items").forEach(i -> {
            if (i.get("source").asText().equals("worker")) {
                names.add(i.get("name").asText());
            }
        });
        return names;
    }

    private static List<String> texts(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }

    private static boolean terminal(String status) {
        return status.equals("completed") || status.equals("failed") || status.equals("cancelled");
    }
}
