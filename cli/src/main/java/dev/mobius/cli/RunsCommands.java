package dev.mobius.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mobius.client.ApiClient;
import dev.mobius.client.ApiException;
import dev.mobius.client.RunEvents;
import dev.mobius.client.model.AutomationRunEvent;
import java.time.Duration;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** Run helpers: {@code runs watch} and {@code runs start --wait}. */
final class RunsCommands {
    private RunsCommands() {}

    @Command(
            name = "watch",
            mixinStandardHelpOptions = true,
            description = {
                "Prints a run's events as they happen until it ends, resuming after the last sequence when the"
                        + " connection drops (reconnecting with growing waits).",
                "Exit status: 0 when the run completed, 1 when it failed or was cancelled."
            })
    static final class Watch implements Cli.Runnable {
        @Parameters(index = "0", paramLabel = "<id>", description = "The run.")
        String runId;

        @Option(
                names = "--since",
                paramLabel = "<sequence>",
                description = "Only events after this sequence (default: from the first).")
        long since;

        @Override
        public int run(Context ctx) throws Exception {
            String project = ctx.project();
            boolean table = "table".equals(ctx.output());
            AutomationRunEvent last = follow(ctx, project, runId, since, e -> {
                if (table) {
                    Object status =
                            e.getPayload() == null ? null : e.getPayload().get("status");
                    ctx.out()
                            .println(e.getSequence() + "  " + e.getEventType() + (status == null ? "" : "  " + status));
                } else {
                    ctx.out().println(Context.JSON.valueToTree(event(e)).toString());
                }
                ctx.out().flush();
            });
            String status =
                    last != null ? String.valueOf(last.getPayload().get("status")) : currentStatus(ctx, project, runId);
            return "completed".equals(status) ? 0 : 1;
        }
    }

    private static Map<String, Object> event(AutomationRunEvent e) {
        Map<String, Object> m = new java.util.LinkedHashMap<>();
        m.put("id", e.getId());
        m.put("run_id", e.getRunId());
        m.put("sequence", e.getSequence());
        m.put("event_type", e.getEventType());
        m.put("payload", e.getPayload());
        m.put("created_at", e.getCreatedAt() == null ? null : e.getCreatedAt().toString());
        return m;
    }

    static AutomationRunEvent follow(
            Context ctx, String project, String runId, long since, java.util.function.Consumer<AutomationRunEvent> on)
            throws InterruptedException {
        ApiClient client = ctx.client();
        try {
            return RunEvents.of(client)
                    .reconnectDelay(Duration.ofMillis(500), Duration.ofSeconds(5))
                    .maxFailures(60)
                    .follow(project, runId, since, on);
        } catch (ApiException e) {
            if (e.getCode() >= 400) {
                throw Context.apiError(e.getCode(), e.getResponseBody() == null ? "" : e.getResponseBody());
            }
            throw new CliException("connection_failed", e.getMessage(), CliException.API);
        }
    }

    private static String currentStatus(Context ctx, String project, String runId) {
        JsonNode run = ctx.json(
                "GET",
                "/v1/projects/" + OperationCommand.enc(project) + "/runs/" + OperationCommand.enc(runId),
                Map.of(),
                null);
        return run == null ? "" : run.path("status").asText();
    }

    /** {@code runs start --wait}: follows the started run until it ends, then prints it. */
    static int waitForRun(Context ctx, String project, String runId) {
        try {
            follow(ctx, project, runId, 0, e -> {});
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CliException("interrupted", "stopped waiting for run " + runId, CliException.API);
        }
        JsonNode run = ctx.json(
                "GET",
                "/v1/projects/" + OperationCommand.enc(project) + "/runs/" + OperationCommand.enc(runId),
                Map.of(),
                null);
        Output.print(ctx, run);
        String status = run.path("status").asText();
        if (!status.equals("completed")) {
            ctx.err()
                    .println("run_" + status + ": run " + runId + " ended " + status
                            + (run.hasNonNull("error_message")
                                    ? ": " + run.get("error_message").asText()
                                    : ""));
            return CliException.API;
        }
        return 0;
    }
}
