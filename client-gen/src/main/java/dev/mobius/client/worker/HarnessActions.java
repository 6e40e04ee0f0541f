package dev.mobius.client.worker;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * What a worker runs for Mogplex sandboxes and agent runs in an environment it joined
 * ({@link Worker.Builder#environmentId}): {@value #CHECKOUT} clones a repository into a sandbox
 * directory (at the base branch, then the working branch, created when asked), and {@value #HARNESS}
 * runs a coding agent harness ({@code codex}, {@code claude-code}) there with the run's prompt. Both
 * stay inside one working directory. The harness's output is streamed to the server while it runs
 * (each line of JSON it prints becomes a {@code tool_started}, {@code tool_finished} or {@code log}
 * event of the run, other lines {@code log} events); a cancelled run kills the harness and every
 * process it started.
 *
 * <pre>{@code
 * Worker worker = Worker.builder(url, key, "user-ada").environmentId(envId).build();
 * HarnessActions.install(worker, Path.of("/srv/mogplex/work"));
 * worker.start();
 * }</pre>
 *
 * <p>By default {@code codex} runs {@code codex exec --json <prompt>} and {@code claude-code} runs
 * {@code claude -p <prompt> --output-format stream-json --verbose}; {@link #command} replaces
 * either ({@value #PROMPT} stands for the prompt). The process sees {@code MOGPLEX_RUN_ID},
 * {@code MOGPLEX_HARNESS}, {@code MOGPLEX_WORKING_BRANCH}, {@code MOGPLEX_BASE_BRANCH},
 * {@code MOGPLEX_MODE} and {@code MOGPLEX_CONVERSATION_ID} besides the worker's own environment
 * and what {@link #environment} adds (for git as well, e.g. {@code GIT_CONFIG_*}).
 */
public final class HarnessActions {
    public static final String CHECKOUT = "mogplex.checkout";
    public static final String HARNESS = "mogplex.harness";
    /** Stands for the prompt in a harness command. */
    public static final String PROMPT = "{prompt}";

    private static final int MAX_LOG_CHARS = 64 * 1024;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path root;
    private final Map<String, List<String>> commands = new LinkedHashMap<>();
    private final Map<String, String> environment = new LinkedHashMap<>();

    private HarnessActions(Path root) throws IOException {
        Files.createDirectories(root);
        this.root = root.toRealPath();
        commands.put("codex", List.of("codex", "exec", "--json", PROMPT));
        commands.put("claude-code", List.of("claude", "-p", PROMPT, "--output-format", "stream-json", "--verbose"));
    }

    /** Registers the checkout and harness actions on {@code worker}, confined to {@code workingDirectory}. */
    public static HarnessActions install(Worker worker, Path workingDirectory) throws IOException {
        HarnessActions actions = new HarnessActions(workingDirectory);
        worker.register(CHECKOUT, actions::checkout);
        worker.register(HARNESS, actions::harness);
        return actions;
    }

    /** The command line of a harness ({@code codex} or {@code claude-code}); {@value #PROMPT} is replaced. */
    public HarnessActions command(String harness, List<String> commandLine) {
        commands.put(harness, List.copyOf(commandLine));
        return this;
    }

    /** Extra environment variables for git and the harnesses. */
    public HarnessActions environment(Map<String, String> variables) {
        environment.putAll(variables);
        return this;
    }

    // ------------------------------------------------------------------ checkout

    private Object checkout(Worker.JobContext job) throws Exception {
        Map<String, Object> p = job.parameters();
        String url = string(p.get("git_url"));
        String base = string(p.get("base_branch"));
        String working = string(p.get("working_branch"));
        boolean create = Boolean.TRUE.equals(p.get("create_branch"));
        int timeout = p.get("timeout_seconds") instanceof Number n ? n.intValue() : 600;
        Path dir = inside(string(p.get("directory")));
        if (url == null || base == null || working == null) {
            throw new IllegalArgumentException("git_url, base_branch and working_branch are required");
        }
        StringBuilder log = new StringBuilder();
        if (Files.isDirectory(dir.resolve(".git"))) {
            git(log, dir, timeout, "fetch", "origin");
        } else {
            Files.createDirectories(dir.getParent());
            git(log, root, timeout, "clone", "--branch", base, "--", url, dir.toString());
        }
        if (create) {
            git(log, dir, timeout, "checkout", "-B", working, "origin/" + base);
        } else if (!working.equals(base)) {
            git(log, dir, timeout, "checkout", working);
        }
        String head =
                git(new StringBuilder(), dir, timeout, "rev-parse", "HEAD").strip();
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("directory", root.relativize(dir).toString());
        result.put("head", head);
        result.put("log", clip(log.toString()));
        return result;
    }

    private String git(StringBuilder log, Path dir, int timeout, String... args) throws Exception {
        List<String> command = new ArrayList<>();
        command.add("git");
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true);
        pb.environment().put("GIT_TERMINAL_PROMPT", "0");
        pb.environment().putAll(environment);
        Process process = pb.start();
        AtomicReference<String> out = new AtomicReference<>("");
        Thread reader = new Thread(() -> out.set(readAll(process.getInputStream())), "git-output");
        reader.setDaemon(true);
        reader.start();
        boolean done;
        try {
            done = process.waitFor(timeout, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            kill(process);
            throw e;
        }
        if (!done) {
            kill(process);
        }
        reader.join(5000);
        log.append(out.get());
        if (!done) {
            throw new IllegalStateException("git " + args[0] + " did not finish within " + timeout + " s");
        }
        if (process.exitValue() != 0) {
            throw new IllegalStateException("git " + args[0] + " failed (exit " + process.exitValue() + "): "
                    + out.get().strip());
        }
        return out.get();
    }

    // ------------------------------------------------------------------ harness

    private Object harness(Worker.JobContext job) throws Exception {
        Map<String, Object> p = job.parameters();
        String harness = string(p.get("harness"));
        List<String> template = commands.get(harness);
        if (template == null) {
            throw new IllegalArgumentException("no command for harness \"" + harness + "\"");
        }
        String prompt = string(p.get("prompt"));
        int timeout = p.get("timeout_seconds") instanceof Number n ? n.intValue() : 3600;
        Path dir = inside(string(p.get("directory")));
        if (!Files.isDirectory(dir)) {
            throw new IllegalStateException("the sandbox's checkout is missing: " + root.relativize(dir));
        }
        List<String> command = new ArrayList<>();
        for (String part : template) {
            command.add(part.replace(PROMPT, prompt == null ? "" : prompt));
        }
        ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile());
        pb.environment().putAll(environment);
        put(pb, "MOGPLEX_RUN_ID", p.get("run_id"));
        put(pb, "MOGPLEX_HARNESS", harness);
        put(pb, "MOGPLEX_WORKING_BRANCH", p.get("working_branch"));
        put(pb, "MOGPLEX_BASE_BRANCH", p.get("base_branch"));
        put(pb, "MOGPLEX_MODE", p.get("mode"));
        put(pb, "MOGPLEX_CONVERSATION_ID", p.get("conversation_id"));
        Process process = pb.start();
        process.getOutputStream().close();
        AtomicReference<String> summary = new AtomicReference<>();
        AtomicReference<String> lastError = new AtomicReference<>();
        Thread out =
                new Thread(() -> lines(process.getInputStream(), line -> summary(job, line, summary)), "harness-out");
        Thread err = new Thread(
                () -> lines(process.getErrorStream(), line -> {
                    lastError.set(line);
                    emit(job, "log", null, line, Map.of("stream", "stderr"));
                }),
                "harness-err");
        out.setDaemon(true);
        err.setDaemon(true);
        out.start();
        err.start();
        boolean finished;
        try {
            finished = process.waitFor(timeout, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            kill(process); // the run was cancelled: nothing of the harness may keep running
            throw e;
        }
        if (!finished) {
            kill(process);
        }
        out.join(5000);
        err.join(5000);
        Map<String, Object> result = new LinkedHashMap<>();
        int exit = finished ? process.exitValue() : 124;
        result.put("exit_code", exit);
        result.put("summary", summary.get());
        if (finished && exit == 0) {
            result.put("status", "success");
        } else {
            result.put("status", "failed");
            result.put(
                    "error",
                    !finished
                            ? "the harness did not finish within " + timeout + " s"
                            : "the harness exited with code " + exit
                                    + (lastError.get() == null ? "" : ": " + lastError.get()));
        }
        return result;
    }

    /** One line of the harness's output as an event; remembers what reads as its final answer. */
    private static void summary(Worker.JobContext job, String line, AtomicReference<String> summary) {
        JsonNode node = null;
        String t = line.strip();
        if (t.startsWith("{")) {
            try {
                node = JSON.readTree(t);
            } catch (IOException e) {
                node = null;
            }
        }
        if (node == null || !node.isObject()) {
            emit(job, "log", null, line, Map.of("stream", "stdout"));
            return;
        }
        String type = node.path("type").asText("");
        Map<String, Object> payload = JSON.convertValue(node, Map.class) instanceof Map<?, ?> m ? cast(m) : Map.of();
        switch (type) {
            case "tool_started", "tool_finished", "log" -> {
                Map<String, Object> inner = node.path("payload").isObject()
                        ? cast(JSON.convertValue(node.get("payload"), Map.class))
                        : Map.of();
                emit(job, type, text(node, "tool_name"), text(node, "message"), inner);
                if (node.has("summary")) {
                    summary.set(node.get("summary").asText());
                }
            }
            // codex exec --json
            case "item.started" ->
                emit(job, "tool_started", node.path("item").path("type").asText(null), null, payload);
            case "item.completed" -> {
                JsonNode item = node.path("item");
                if ("agent_message".equals(item.path("type").asText())) {
                    summary.set(item.path("text").asText(null));
                    emit(job, "log", null, item.path("text").asText(null), payload);
                } else {
                    emit(job, "tool_finished", item.path("type").asText(null), null, payload);
                }
            }
            // claude -p --output-format stream-json
            case "assistant" -> {
                for (JsonNode part : node.path("message").path("content")) {
                    if ("tool_use".equals(part.path("type").asText())) {
                        emit(
                                job,
                                "tool_started",
                                part.path("name").asText(null),
                                null,
                                cast(JSON.convertValue(part, Map.class)));
                    } else if ("text".equals(part.path("type").asText())) {
                        emit(job, "log", null, part.path("text").asText(null), Map.of());
                    }
                }
            }
            case "user" -> {
                for (JsonNode part : node.path("message").path("content")) {
                    if ("tool_result".equals(part.path("type").asText())) {
                        emit(
                                job,
                                "tool_finished",
                                null,
                                null,
                                Map.of("tool_use_id", part.path("tool_use_id").asText("")));
                    }
                }
            }
            case "result" -> {
                summary.set(node.path("result").asText(null));
                emit(job, "log", null, node.path("result").asText(null), payload);
            }
            default -> emit(job, "log", null, null, payload);
        }
    }

    private static void emit(
            Worker.JobContext job, String type, String toolName, String message, Map<String, Object> payload) {
        Map<String, Object> delta = new LinkedHashMap<>();
        delta.put("type", type);
        if (toolName != null) {
            delta.put("tool_name", toolName);
        }
        if (message != null) {
            delta.put("message", message.length() > 4000 ? message.substring(0, 4000) : message);
        }
        delta.put("payload", payload == null ? Map.of() : payload);
        job.emit(delta);
    }

    // ------------------------------------------------------------------ helpers

    /** A path inside the working directory: relative, without {@code ..}. */
    private Path inside(String relative) {
        if (relative == null || relative.isEmpty() || relative.startsWith("/") || relative.contains("\\")) {
            throw new IllegalArgumentException("directory must be relative to the working directory");
        }
        Path p = root.resolve(relative).normalize();
        for (Path part : Path.of(relative)) {
            if (part.toString().equals("..")) {
                throw new IllegalArgumentException("directory leaves the working directory");
            }
        }
        if (!p.startsWith(root)) {
            throw new IllegalArgumentException("directory leaves the working directory");
        }
        return p;
    }

    private static void lines(InputStream in, java.util.function.Consumer<String> each) {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                each.accept(line);
            }
        } catch (IOException e) {
            // the process was killed
        }
    }

    private static String readAll(InputStream in) {
        try (in) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }

    private static void kill(Process process) {
        // The tree is listed first and the harness itself killed before its children: a child killed
        // first would let the harness run on to its next step in the moment before its own end.
        java.util.List<ProcessHandle> tree = process.descendants().toList();
        process.destroyForcibly();
        tree.forEach(ProcessHandle::destroyForcibly);
        try {
            process.waitFor(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void put(ProcessBuilder pb, String name, Object value) {
        if (value != null) {
            pb.environment().put(name, value.toString());
        }
    }

    private static String string(Object o) {
        return o == null ? null : o.toString();
    }

    private static String text(JsonNode node, String field) {
        return node.hasNonNull(field) ? node.get(field).asText() : null;
    }

    private static String clip(String s) {
        return s.length() <= MAX_LOG_CHARS ? s : s.substring(s.length() - MAX_LOG_CHARS);
    }

    @SuppressWarnings("unchecked") // Jackson reads JSON objects as Map<String, Object>
    private static Map<String, Object> cast(Map<?, ?> m) {
        return (Map<String, Object>) m;
    }
}
