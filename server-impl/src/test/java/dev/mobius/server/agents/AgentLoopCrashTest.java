package dev.mobius.server.agents;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import dev.mobius.client.worker.Worker;
import dev.mobius.server.Api;
import dev.mobius.server.Fixtures;
import dev.mobius.server.ServerProcess;
import dev.mobius.server.TestServer;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The agent loop survives kill -9 of the server twice: once while a worker runs a tool call of
 * turn 1, once while the worker generates turn 2 (after both tool calls, before the next turn's
 * answer). The restarted server finishes the run with every tool called once and every turn
 * generated once.
 */
@Tag("slow")
class AgentLoopCrashTest {
    static final String KEY = TestServer.BOOTSTRAP_KEY;

    @Test
    void aKilledServerFinishesTheLoopWithEveryToolCalledOnce() throws Exception {
        Path dir = Files.createTempDirectory("mobius-agent-kill-");
        AtomicInteger crmCalls = new AtomicInteger();
        HttpServer crm = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        crm.createContext("/", ex -> {
            ex.getRequestBody().readAllBytes();
            crmCalls.incrementAndGet();
            byte[] out = "{\"customer\":\"Ada Lovelace\"}".getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().add("Content-Type", "application/json");
            ex.sendResponseHeaders(200, out.length);
            ex.getResponseBody().write(out);
            ex.close();
        });
        crm.start();
        AtomicInteger firstTurns = new AtomicInteger();
        AtomicInteger secondTurns = new AtomicInteger();
        AtomicInteger ticketCalls = new AtomicInteger();
        CountDownLatch ticketRunning = new CountDownLatch(1);
        CountDownLatch releaseTicket = new CountDownLatch(1);
        CountDownLatch secondTurnRunning = new CountDownLatch(1);
        CountDownLatch releaseSecondTurn = new CountDownLatch(1);
        Worker.Handler model = turn -> {
            List<?> messages = (List<?>) turn.request().get("messages");
            boolean afterTools = messages.stream().anyMatch(m -> "tool".equals(((Map<?, ?>) m).get("role")));
            if (!afterTools) {
                firstTurns.incrementAndGet();
                return Map.of(
                        "content",
                        "",
                        "tool_calls",
                        List.of(
                                Map.of(
                                        "id",
                                        "call_crm",
                                        "name",
                                        "crm-lookup",
                                        "arguments",
                                        Map.of("email", "ada@example.com")),
                                Map.of(
                                        "id",
                                        "call_ticket",
                                        "name",
                                        "ticket_create",
                                        "arguments",
                                        Map.of("title", "Refund"))));
            }
            secondTurns.incrementAndGet();
            secondTurnRunning.countDown();
            await(releaseSecondTurn);
            return Map.of("content", "{\"customer\":\"Ada Lovelace\",\"ticket\":\"T-1\"}");
        };
        String project;
        String runId;
        int port;
        Worker worker = null;
        try {
            try (ServerProcess first = ServerProcess.start(dir)) {
                port = first.port();
                Api api = new Api(first.baseUrl());
                project = new Fixtures(api, KEY).project("agent-crash");
                String p = "/v1/projects/" + project;
                worker = Worker.builder(URI.create(first.baseUrl()), KEY, project)
                        .instanceId("agent-crash-box")
                        .concurrency(4)
                        .backoff(Duration.ofMillis(100), Duration.ofMillis(500))
                        .build();
                worker.generation("scripted/crash-1", model);
                worker.register("ticket.create", job -> {
                    ticketCalls.incrementAndGet();
                    ticketRunning.countDown();
                    await(releaseTicket);
                    return Map.of("ticket", "T-1");
                });
                worker.start();
                assertTrue(worker.awaitRegistered(Duration.ofSeconds(10)));
                String agentId = AgentLoopTest.supportAgent(
                        api,
                        p,
                        "http://127.0.0.1:" + crm.getAddress().getPort() + "/crm",
                        Map.of("mode", "worker", "provider", "scripted", "model", "crash-1"));
                AgentLoopTest.publish(api, p, "crashy", AgentLoopTest.agentConfig(agentId, null));
                runId = api.post(
                                p + "/automations/crashy/runs",
                                KEY,
                                Map.of("inputs", Map.of("email", "ada@example.com")))
                        .json()
                        .get("id")
                        .asText();
                assertTrue(ticketRunning.await(60, TimeUnit.SECONDS), "the worker tool started");
                first.kill();
            }
            // Second life: the worker reconnects and reports the tool call it held; turn 2 starts.
            try (ServerProcess second = ServerProcess.start(dir, port)) {
                releaseTicket.countDown();
                assertTrue(secondTurnRunning.await(60, TimeUnit.SECONDS), "turn 2 was handed to the worker");
                second.kill();
            }
            // Third life: the worker reports turn 2; the run completes.
            try (ServerProcess third = ServerProcess.start(dir, port)) {
                releaseSecondTurn.countDown();
                Api api = new Api(third.baseUrl());
                String p = "/v1/projects/" + project;
                JsonNode run = api.awaitRun(
                        p + "/runs/" + runId,
                        KEY,
                        r -> AgentLoopTest.terminal(r.get("status").asText()),
                        600,
                        100);
                assertEquals("completed", run.get("status").asText(), run.toString() + "\n" + third.output());
                assertEquals(
                        "T-1",
                        run.get("result")
                                .get("triage")
                                .get("output")
                                .get("ticket")
                                .asText(),
                        run.toString());
                assertEquals(1, crmCalls.get(), "the server-run tool was called once");
                assertEquals(1, ticketCalls.get(), "the worker tool ran once");
                assertEquals(1, firstTurns.get(), "turn 1 was generated once");
                assertEquals(1, secondTurns.get(), "turn 2 was generated once");
                List<String> types = AgentLoopTest.eventTypes(api, p, runId);
                assertEquals(2, types.stream().filter("tool.called"::equals).count(), types.toString());
                assertEquals(2, types.stream().filter("turn.started"::equals).count(), types.toString());
            }
        } finally {
            if (worker != null) {
                worker.close();
            }
            crm.stop(0);
            TestServer.deleteTree(dir);
        }
    }

    private static void await(CountDownLatch latch) throws InterruptedException {
        if (!latch.await(120, TimeUnit.SECONDS)) {
            throw new IllegalStateException("never released");
        }
    }
}
