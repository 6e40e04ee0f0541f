package dev.mobius.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mobius.client.worker.Action;
import dev.mobius.client.worker.Worker;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code mobius worker}: the Java worker runtime with actions from a folder of executable scripts
 * (the action's name is the file's name without its extension; the job's parameters arrive as JSON
 * on standard input, the result is the JSON the script prints; a non-zero exit fails the job with
 * what it wrote to stderr) and from jars ({@link Action} implementations found by
 * {@link ServiceLoader}).
 */
@Command(
        name = "worker",
        mixinStandardHelpOptions = true,
        description = {
            "Runs a worker for the project: connects to its worker socket, registers the actions, runs jobs.",
            "Scripts: each executable file of --actions is an action named after the file (without extension);"
                    + " it reads the job's parameters as JSON on stdin and prints its result as JSON on stdout.",
            "Jars: classes implementing dev.mobius.client.worker.Action, listed in"
                    + " META-INF/services/dev.mobius.client.worker.Action.",
            "Stops on SIGTERM or Ctrl-C after the running jobs finish."
        })
final class WorkerCommand implements Cli.Runnable {
    @Option(names = "--actions", paramLabel = "<dir>", description = "Folder of executable scripts.")
    Path actions;

    @Option(names = "--jar", paramLabel = "<file>", description = "Jar of Action classes (repeatable).")
    List<Path> jars = new ArrayList<>();

    @Option(names = "--concurrency", paramLabel = "<n>", description = "Jobs at once (default 4).")
    int concurrency = 4;

    @Option(
            names = "--queue",
            paramLabel = "<name>",
            description = "Queue to take jobs from (repeatable; default all).")
    List<String> queues = new ArrayList<>();

    @Option(names = "--name", paramLabel = "<name>", description = "The worker's name (default mobius-cli-worker).")
    String name = "mobius-cli-worker";

    @Override
    public int run(Context ctx) throws Exception {
        if (actions == null && jars.isEmpty()) {
            throw CliException.usage("give --actions <dir> and/or --jar <file>");
        }
        Worker.Builder builder = Worker.builder(URI.create(ctx.apiUrl()), ctx.requireApiKey(), ctx.project())
                .name(name)
                .concurrency(concurrency);
        if (!queues.isEmpty()) {
            builder.queues(queues);
        }
        Worker worker = builder.build();
        List<String> names = new ArrayList<>();
        if (actions != null) {
            if (!Files.isDirectory(actions)) {
                throw CliException.usage(actions + " is not a folder");
            }
            try (Stream<Path> files = Files.list(actions)) {
                for (Path f : files.sorted().toList()) {
                    if (Files.isRegularFile(f) && Files.isExecutable(f)) {
                        String action = actionName(f);
                        worker.register(action, job -> runScript(f, job));
                        names.add(action);
                    }
                }
            }
        }
        for (Path jar : jars) {
            URLClassLoader loader =
                    new URLClassLoader(new URL[] {jar.toUri().toURL()}, WorkerCommand.class.getClassLoader());
            for (Action a : ServiceLoader.load(Action.class, loader)) {
                a.registerOn(worker);
                names.add(a.name());
            }
        }
        if (names.isEmpty()) {
            throw CliException.usage("no actions found");
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime()
                .addShutdownHook(new Thread(
                        () -> {
                            worker.drain(Duration.ofSeconds(30));
                            stopped.countDown();
                        },
                        "mobius-worker-stop"));
        worker.start();
        if (!worker.awaitRegistered(Duration.ofSeconds(30))) {
            if (worker.authRevoked()) {
                throw new CliException("unauthorized", "the server refused the key", CliException.API);
            }
            ctx.err().println("worker: not registered yet at " + ctx.apiUrl() + "; still trying");
        } else {
            ctx.err().println("worker registered in project " + ctx.project() + " with actions " + names);
        }
        ctx.err().flush();
        stopped.await();
        return 0;
    }

    static String actionName(Path file) {
        String n = file.getFileName().toString();
        int dot = n.lastIndexOf('.');
        return dot > 0 ? n.substring(0, dot) : n;
    }

    /** One job by one script: parameters in, result out; interrupted (cancelled) jobs end the script. */
    private static Object runScript(Path script, Worker.JobContext job) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(script.toAbsolutePath().toString());
        pb.directory(script.toAbsolutePath().getParent().toFile());
        Map<String, String> env = pb.environment();
        env.put("MOBIUS_JOB_ID", String.valueOf(job.jobId()));
        env.put("MOBIUS_RUN_ID", String.valueOf(job.runId()));
        env.put("MOBIUS_ACTION_NAME", String.valueOf(job.actionName()));
        if (job.traceparent() != null) {
            // The name OpenTelemetry's environment propagation reads, so a traced script joins the trace.
            env.put("TRACEPARENT", job.traceparent());
        }
        File errors = File.createTempFile("mobius-action", ".err");
        pb.redirectError(errors);
        Process p = pb.start();
        try {
            CompletableFuture<byte[]> out = CompletableFuture.supplyAsync(() -> {
                try (InputStream in = p.getInputStream()) {
                    return in.readAllBytes();
                } catch (IOException e) {
                    return new byte[0];
                }
            });
            try (OutputStream in = p.getOutputStream()) {
                in.write(Context.JSON.writeValueAsBytes(job.parameters() == null ? Map.of() : job.parameters()));
            } catch (IOException ignored) {
                // the script does not read its input
            }
            int status = p.waitFor();
            byte[] stdout = out.get();
            if (status != 0) {
                String message = Files.readString(errors.toPath(), StandardCharsets.UTF_8)
                        .strip();
                throw new IllegalStateException(
                        script.getFileName() + " exited " + status + (message.isEmpty() ? "" : ": " + message));
            }
            String text = new String(stdout, StandardCharsets.UTF_8).strip();
            if (text.isEmpty()) {
                return Map.of();
            }
            JsonNode result = Context.JSON.readTree(text);
            return Context.JSON.convertValue(result, Object.class);
        } finally {
            p.destroyForcibly();
            Files.deleteIfExists(errors.toPath());
        }
    }
}
