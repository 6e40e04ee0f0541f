package dev.mobius.server.workers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mobius.client.worker.Worker;
import dev.mobius.server.Api;
import dev.mobius.server.Fixtures;
import dev.mobius.server.MobiusServer;
import dev.mobius.server.SharedServerTest;
import dev.mobius.server.TestServer;
import dev.mobius.server.jobs.JobDispatch;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocketHandshakeException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The worker socket against a real server: authentication, the protocol, and the Java worker. */
class WorkerSocketTest extends SharedServerTest {
    static String enqueue(MobiusServer s, String projectHandle, String action, Map<String, Object> params) {
        return s.database().jdbi().inTransaction(h -> {
            Map<String, Object> p = h.createQuery("SELECT id, org_id FROM projects WHERE handle = :h")
                    .bind("h", projectHandle)
                    .mapToMap()
                    .one();
            return s.jobs()
                    .enqueue(
                            h,
                            new JobDispatch.JobRequest(
                                    (String) p.get("org_id"),
                                    (String) p.get("id"),
                                    "run_test",
                                    "step_1",
                                    null,
                                    action,
                                    params,
                                    "default",
                                    List.of(),
                                    null));
        });
    }

    /** Queues jobs in one transaction, so a claim sent afterwards sees all of them. */
    static List<String> enqueueAll(MobiusServer s, String projectHandle, List<JobDispatch.JobRequest> requests) {
        return s.database().jdbi().inTransaction(h -> {
            Map<String, Object> p = h.createQuery("SELECT id, org_id FROM projects WHERE handle = :h")
                    .bind("h", projectHandle)
                    .mapToMap()
                    .one();
            List<String> ids = new java.util.ArrayList<>();
            for (JobDispatch.JobRequest r : requests) {
                ids.add(s.jobs()
                        .enqueue(
                                h,
                                new JobDispatch.JobRequest(
                                        (String) p.get("org_id"),
                                        (String) p.get("id"),
                                        "run_test",
                                        "step_1",
                                        null,
                                        r.actionName(),
                                        r.parameters(),
                                        r.queue(),
                                        r.requiredCapabilities(),
                                        null,
                                        r.environmentId(),
                                        r.kind(),
                                        r.provider(),
                                        r.model())));
            }
            return ids;
        });
    }

    static Map<String, Object> job(MobiusServer s, String id) {
        return s.database()
                .jdbi()
                .withHandle(h -> h.createQuery(
                                "SELECT status, claim_attempt, result::text AS result, error_type FROM jobs WHERE id = :id")
                        .bind("id", id)
                        .mapToMap()
                        .one());
    }

    static Map<String, Object> awaitStatus(MobiusServer s, String id, String status) throws InterruptedException {
        long deadline = System.nanoTime() + 20_000_000_000L;
        Map<String, Object> j = job(s, id);
        while (!status.equals(j.get("status")) && System.nanoTime() < deadline) {
            Thread.sleep(20);
            j = job(s, id);
        }
        assertEquals(status, j.get("status"), "job " + id + ": " + j);
        return j;
    }

    @Test
    void upgradeWithoutCredentialIsRefusedWith401() {
        String project = new Fixtures(api, TestServer.BOOTSTRAP_KEY).project("ws-auth");
        ExecutionException e = assertThrows(
                ExecutionException.class,
                () -> HttpClient.newHttpClient()
                        .newWebSocketBuilder()
                        .buildAsync(
                                URI.create(server.baseUrl().replace("http", "ws") + "/v1/projects/" + project
                                        + "/workers/socket"),
                                new java.net.http.WebSocket.Listener() {})
                        .get(10, TimeUnit.SECONDS));
        assertTrue(e.getCause() instanceof WebSocketHandshakeException, e.toString());
        assertEquals(
                401, ((WebSocketHandshakeException) e.getCause()).getResponse().statusCode());
        ExecutionException missing = assertThrows(
                ExecutionException.class, () -> new WsClient(server.baseUrl(), "nope", TestServer.BOOTSTRAP_KEY));
        assertEquals(
                404,
                ((WebSocketHandshakeException) missing.getCause()).getResponse().statusCode());
    }

    @Test
    void upgradeWithoutThePermissionTheContractDeclaresIsRefusedWith403() throws Exception {
        Fixtures fixtures = new Fixtures(api, TestServer.BOOTSTRAP_KEY);
        String project = fixtures.project("ws-permission");
        Fixtures.Key noRoles = fixtures.key(project, "ws-no-roles", List.of());
        ExecutionException e =
                assertThrows(ExecutionException.class, () -> new WsClient(server.baseUrl(), project, noRoles.raw()));
        assertEquals(
                403, ((WebSocketHandshakeException) e.getCause()).getResponse().statusCode());
        // The Owner role holds mobius.workers.connect: the same project's socket opens.
        Fixtures.Key owner = fixtures.key(project, "ws-owner");
        try (WsClient ws = new WsClient(server.baseUrl(), project, owner.raw())) {
            assertFalse(ws.ws.isOutputClosed());
        }
    }

    @Test
    void javaWorkerRunsQueuedJobs() throws Exception {
        String project = new Fixtures(api, TestServer.BOOTSTRAP_KEY).project("ws-java-worker");
        try (Worker worker = Worker.builder(URI.create(server.baseUrl()), TestServer.BOOTSTRAP_KEY, project)
                .concurrency(4)
                .build()) {
            worker.register(
                    "send_email", job -> Map.of("sent_to", job.parameters().get("to")));
            worker.register("count", job -> 42);
            worker.start();
            assertTrue(worker.awaitRegistered(Duration.ofSeconds(10)));
            String a = enqueue(server.server(), project, "send_email", Map.of("to", "ops@example.com"));
            String b = enqueue(server.server(), project, "count", Map.of());
            assertEquals(
                    "{\"sent_to\": \"ops@example.com\"}",
                    awaitStatus(server.server(), a, "completed").get("result"));
            assertEquals(
                    "{\"output\": 42}",
                    awaitStatus(server.server(), b, "completed").get("result"));
            assertEquals(1, job(server.server(), a).get("claim_attempt"));

            JsonNode sessions = api.get("/v1/projects/" + project + "/worker-sessions", TestServer.BOOTSTRAP_KEY)
                    .json();
            assertEquals(1, sessions.get("items").size());
            assertEquals(4, sessions.get("totals").get("slots").asInt());
            assertFalse(sessions.get("items").get(0).get("stale").asBoolean());
        }
    }

    @Test
    void claimsParkUntilWorkExistsAndReportsAreFenced() throws Exception {
        String project = new Fixtures(api, TestServer.BOOTSTRAP_KEY).project("ws-protocol");
        try (WsClient ws = new WsClient(server.baseUrl(), project, TestServer.BOOTSTRAP_KEY)) {
            ws.send(
                    "{\"type\":\"worker.register\",\"message_id\":\"msg_1\",\"worker_instance_id\":\"w-1\",\"concurrency_limit\":2}");
            JsonNode registered = ws.next();
            assertEquals("worker.registered", registered.get("type").asText());
            assertEquals("msg_1", registered.get("message_id").asText());
            assertEquals(
                    60, registered.get("lease").get("lease_duration_seconds").asInt());

            ws.send("{\"type\":\"keepalive\",\"message_id\":\"msg_k\"}");
            ws.send("{\"type\":\"jobs.claim\",\"message_id\":\"msg_2\",\"available_slots\":1}");
            assertNull(ws.next(500), "an empty claim is parked, and a keepalive is never answered");
            ws.send("{\"type\":\"jobs.claim\",\"message_id\":\"msg_3\",\"available_slots\":1}");
            // Frames are handled in order but apart from the enqueue below: let msg_3 park first.
            assertNull(ws.next(300), "the newer claim is parked too");
            String jobId = enqueue(server.server(), project, "send_email", Map.of("to", "a@example.com"));
            JsonNode claimed = ws.next();
            assertEquals("jobs.claimed", claimed.get("type").asText());
            assertEquals("msg_3", claimed.get("message_id").asText(), "the newer claim superseded the parked one");
            JsonNode job = claimed.get("jobs").get(0);
            assertEquals(jobId, job.get("id").asText());
            assertEquals(
                    "a@example.com", job.get("spec").get("parameters").get("to").asText());
            assertEquals(1, job.get("claim_attempt").asInt());
            String lease = job.get("lease_token").asText();

            ws.send("{\"type\":\"job.heartbeat\",\"message_id\":\"msg_4\",\"job_id\":\"" + jobId
                    + "\",\"lease_token\":\"" + lease + "\"}");
            JsonNode ack = ws.nextAnswer();
            assertEquals("job.heartbeat.ack", ack.get("type").asText());
            assertFalse(ack.has("cancel"));

            ws.send("{\"type\":\"job.report\",\"message_id\":\"msg_5\",\"job_id\":\"" + jobId
                    + "\",\"lease_token\":\"stale\",\"status\":\"completed\"}");
            JsonNode stale = ws.nextAnswer();
            assertEquals("error", stale.get("type").asText());
            assertEquals("lease_lost", stale.get("error").get("code").asText());
            assertEquals("msg_5", stale.get("message_id").asText());

            String report =
                    "{\"type\":\"job.report\",\"message_id\":\"msg_6\",\"job_id\":\"" + jobId + "\",\"lease_token\":\""
                            + lease + "\",\"status\":\"completed\",\"result\":{\"output\":{\"ok\":true}}}";
            ws.send(report);
            JsonNode first = ws.nextAnswer();
            assertEquals("job.report.ack", first.get("type").asText());
            assertFalse(first.has("duplicate"));
            ws.send(report);
            JsonNode second = ws.nextAnswer();
            assertTrue(second.get("duplicate").asBoolean());
            assertEquals(
                    "{\"output\": {\"ok\": true}}", job(server.server(), jobId).get("result"));

            ws.send("{\"type\":\"job.heartbeat\",\"message_id\":\"msg_7\",\"job_id\":\"" + jobId
                    + "\",\"lease_token\":\"" + lease + "\"}");
            assertEquals(
                    "lease_lost", ws.nextAnswer().get("error").get("code").asText(), "a finished job has no lease");

            ws.send("{\"type\":\"jobs.claim\",\"message_id\":\"msg_8\",\"available_slots\":1,\"bogus\":1}");
            assertEquals("invalid_frame", ws.next().get("error").get("code").asText(), "frames are closed");
        }
    }

    private static JobDispatch.JobRequest action(
            String name, String queue, String environment, List<String> capabilities) {
        return new JobDispatch.JobRequest(
                null, null, null, null, null, name, Map.of(), queue, capabilities, null, environment, null, null, null);
    }

    private static JobDispatch.JobRequest generation(String provider, String model) {
        return new JobDispatch.JobRequest(
                null,
                null,
                null,
                null,
                null,
                null,
                Map.of("messages", List.of(Map.of("role", "user", "content", "hi"))),
                "gpu",
                List.of(),
                null,
                null,
                "llm_generation",
                provider,
                model);
    }

    private static java.util.Set<String> ids(JsonNode claimed) {
        java.util.Set<String> ids = new java.util.TreeSet<>();
        claimed.get("jobs").forEach(j -> ids.add(j.get("id").asText()));
        return ids;
    }

    @Test
    void claimsHonourQueuesActionsCapabilitiesModelsAndEnvironmentPinning() throws Exception {
        String project = new Fixtures(api, TestServer.BOOTSTRAP_KEY).project("ws-filters");
        List<String> j = enqueueAll(
                server.server(),
                project,
                List.of(
                        action("send_email", "gpu", null, List.of()), // 0: eligible
                        action("send_email", "default", null, List.of()), // 1: other queue
                        action("fetch_url", "gpu", null, List.of()), // 2: action not advertised
                        action("send_email", "gpu", "env_b", List.of()), // 3: pinned to another environment
                        action("send_email", "gpu", "env_a", List.of()), // 4: pinned to the worker's environment
                        action("send_email", "gpu", null, List.of("cuda")), // 5: capability the worker lacks
                        action("send_email", "gpu", null, List.of("local-network")), // 6: capability the worker has
                        generation("ollama", "llama3"), // 7: model advertised
                        generation("openai", "gpt-4o"))); // 8: model not advertised
        try (WsClient ws = new WsClient(server.baseUrl(), project, TestServer.BOOTSTRAP_KEY)) {
            ws.send(
                    "{\"type\":\"worker.register\",\"worker_instance_id\":\"w-f\",\"concurrency_limit\":16,\"environment_id\":\"env_a\","
                            + "\"queues\":[\"gpu\"],\"action_names\":[\"send_email\"],\"capabilities\":[\"local-network\"],"
                            + "\"models\":[{\"provider\":\"ollama\",\"model\":\"llama3\"}]}");
            assertEquals("worker.registered", ws.next().get("type").asText());

            // No filters in the claim: the register's advertisement applies.
            ws.send("{\"type\":\"jobs.claim\",\"message_id\":\"c1\",\"available_slots\":16}");
            JsonNode first = ws.nextAnswer();
            assertEquals("c1", first.get("message_id").asText());
            assertEquals(new java.util.TreeSet<>(List.of(j.get(0), j.get(4), j.get(6), j.get(7))), ids(first));
            for (JsonNode job : first.get("jobs")) {
                if (job.get("id").asText().equals(j.get(7))) {
                    assertEquals("llm_generation", job.get("kind").asText());
                    assertEquals("ollama", job.get("provider").asText());
                    assertEquals("llama3", job.get("model").asText());
                    assertEquals(
                            "hi",
                            job.get("spec")
                                    .get("messages")
                                    .get(0)
                                    .get("content")
                                    .asText());
                } else if (job.get("id").asText().equals(j.get(4))) {
                    assertEquals("env_a", job.get("environment_id").asText());
                }
            }

            // The claim's filters replace the advertised ones.
            ws.send(
                    "{\"type\":\"jobs.claim\",\"message_id\":\"c2\",\"available_slots\":16,\"action_names\":[\"fetch_url\"]}");
            assertEquals(java.util.Set.of(j.get(2)), ids(ws.nextAnswer()));
            ws.send("{\"type\":\"jobs.claim\",\"message_id\":\"c3\",\"available_slots\":16,\"queues\":[\"default\"],"
                    + "\"action_names\":[\"send_email\"]}");
            assertEquals(java.util.Set.of(j.get(1)), ids(ws.nextAnswer()));
        }
        for (int i : new int[] {3, 5, 8}) {
            assertEquals(
                    "pending",
                    job(server.server(), j.get(i)).get("status"),
                    "job " + i + " matched no filter of the worker");
        }
    }

    @Test
    void cancellationIsPushedAndOnTheHeartbeat() throws Exception {
        String project = new Fixtures(api, TestServer.BOOTSTRAP_KEY).project("ws-cancel");
        try (WsClient ws = new WsClient(server.baseUrl(), project, TestServer.BOOTSTRAP_KEY)) {
            ws.send("{\"type\":\"worker.register\",\"worker_instance_id\":\"w-c\"}");
            ws.next();
            String jobId = enqueue(server.server(), project, "slow", Map.of());
            ws.send("{\"type\":\"jobs.claim\",\"message_id\":\"m\",\"available_slots\":4}");
            JsonNode claimed = ws.next();
            while ("work.available".equals(claimed.get("type").asText())) {
                claimed = ws.next(); // the job was queued while no claim was outstanding
            }
            JsonNode job = claimed.get("jobs").get(0);
            server.server()
                    .database()
                    .jdbi()
                    .useTransaction(h -> server.server().jobs().cancel(h, jobId, "user requested"));
            JsonNode cancel = ws.nextAnswer();
            assertEquals("job.cancel", cancel.get("type").asText());
            assertEquals(jobId, cancel.get("job_id").asText());
            assertEquals("user requested", cancel.get("reason").asText());
            ws.send("{\"type\":\"job.heartbeat\",\"job_id\":\"" + jobId + "\",\"lease_token\":\""
                    + job.get("lease_token").asText() + "\"}");
            assertEquals(jobId, ws.nextAnswer().get("cancel").get("job_id").asText());
            ws.send("{\"type\":\"job.report\",\"job_id\":\"" + jobId + "\",\"lease_token\":\""
                    + job.get("lease_token").asText()
                    + "\",\"status\":\"failed\",\"error_type\":\"Cancelled\",\"error_message\":\"job cancelled\"}");
            assertEquals("job.report.ack", ws.nextAnswer().get("type").asText());
            assertEquals("cancelled", job(server.server(), jobId).get("status"));
        }
    }

    @Test
    void secondLiveProcessWithTheSameInstanceIdIsRefusedButTheTokenContinuesTheSession() throws Exception {
        String project = new Fixtures(api, TestServer.BOOTSTRAP_KEY).project("ws-conflict");
        try (WsClient a = new WsClient(server.baseUrl(), project, TestServer.BOOTSTRAP_KEY);
                WsClient b = new WsClient(server.baseUrl(), project, TestServer.BOOTSTRAP_KEY)) {
            a.send("{\"type\":\"worker.register\",\"worker_instance_id\":\"same\"}");
            String token = a.next().get("worker_session_token").asText();
            b.send("{\"type\":\"worker.register\",\"message_id\":\"msg_b\",\"worker_instance_id\":\"same\"}");
            JsonNode error = b.next();
            assertEquals(
                    "worker_instance_conflict", error.get("error").get("code").asText());
            assertEquals("msg_b", error.get("message_id").asText());
            assertNotNull(b.closed.get(5, TimeUnit.SECONDS));
            try (WsClient c = new WsClient(server.baseUrl(), project, TestServer.BOOTSTRAP_KEY)) {
                c.send("{\"type\":\"worker.register\",\"worker_instance_id\":\"same\",\"worker_session_token\":\""
                        + token + "\"}");
                JsonNode registered = c.next();
                assertEquals("worker.registered", registered.get("type").asText());
                assertEquals(token, registered.get("worker_session_token").asText());
            }
        }
        JsonNode sessions = api.get("/v1/projects/" + project + "/worker-sessions", TestServer.BOOTSTRAP_KEY)
                .json();
        assertEquals(1, sessions.get("items").size(), "one instance, one session");
    }

    @Test
    void revokedKeyGetsInvalidActorAndTheSocketCloses() throws Exception {
        String project = new Fixtures(api, TestServer.BOOTSTRAP_KEY).project("ws-revoke");
        Fixtures.Key key = new Fixtures(api, TestServer.BOOTSTRAP_KEY).key(project, "worker-bot");
        try (WsClient ws = new WsClient(server.baseUrl(), project, key.raw())) {
            ws.send("{\"type\":\"worker.register\",\"worker_instance_id\":\"r-1\"}");
            assertEquals("worker.registered", ws.next().get("type").asText());
            Api.Reply revoked =
                    api.delete("/v1/projects/" + project + "/api-keys/" + key.id(), TestServer.BOOTSTRAP_KEY);
            assertTrue(revoked.status() < 300, revoked.toString());
            JsonNode error = ws.next(15_000);
            assertNotNull(error);
            assertEquals("invalid_actor", error.get("error").get("code").asText());
            assertNotEquals(null, ws.closed.get(5, TimeUnit.SECONDS));
        }
    }
}
