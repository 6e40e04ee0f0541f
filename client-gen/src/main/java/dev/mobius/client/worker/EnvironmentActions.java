package dev.mobius.client.worker;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The actions a worker runs for an environment it joined ({@link Worker.Builder#environmentId}):
 * {@value #EXEC} (argv, {@code dir}, {@code env}, {@code stdin}, {@code timeout_seconds}),
 * {@value #WRITE_FILE} ({@code path}, {@code content}) and {@value #LOGS} ({@code log_name},
 * {@code tail}), all confined to one working directory: absolute paths, {@code ..} and symlinks
 * that lead out of it are refused (reported as {@code PathRefused}). Commands run with
 * {@link ProcessBuilder}; past their time limit, or when the job is cancelled, the command and
 * every process it started are killed.
 *
 * <pre>{@code
 * Worker worker = Worker.builder(url, key, "acme-payments").environmentId(envId).build();
 * EnvironmentActions.install(worker, Path.of("/srv/mobius/work"));
 * worker.start();
 * }</pre>
 */
public final class EnvironmentActions {
    public static final String EXEC = "environment.exec";
    public static final String WRITE_FILE = "environment.write_file";
    public static final String LOGS = "environment.logs";
    /** Where the worker's logs are kept, under the working directory ({@code <name>.log}). */
    public static final String LOG_DIR = ".mobius/logs";

    private static final List<String> LOG_NAMES = List.of("stdout", "stderr", "bootstrap", "worker");
    private static final int MAX_OUTPUT_BYTES = 1 << 20;
    private static final int TIMED_OUT_EXIT = 124;

    private final Path root;

    private EnvironmentActions(Path root) throws IOException {
        Files.createDirectories(root);
        this.root = root.toRealPath();
    }

    /** Registers the environment actions on {@code worker}, confined to {@code workingDirectory}. */
    public static EnvironmentActions install(Worker worker, Path workingDirectory) throws IOException {
        EnvironmentActions actions = new EnvironmentActions(workingDirectory);
        worker.register(EXEC, actions::exec);
        worker.register(WRITE_FILE, actions::writeFile);
        worker.register(LOGS, actions::logs);
        return actions;
    }

    /** A path the worker will not touch: outside its working directory. */
    public static final class PathRefused extends Exception {
        private static final long serialVersionUID = 1L;

        PathRefused(String message) {
            super(message);
        }
    }

    /**
     * {@code relative} inside the working directory, or {@link PathRefused}: absolute paths and
     * {@code ..} are refused outright, and the nearest existing ancestor (symlinks resolved) must
     * still lie inside the real working directory.
     */
    public Path resolve(String relative) throws PathRefused, IOException {
        if (relative == null || relative.isEmpty() || relative.equals(".")) {
            return root;
        }
        Path p = Path.of(relative);
        if (p.isAbsolute() || relative.startsWith("/") || relative.startsWith("\\")) {
            throw new PathRefused("absolute path refused: " + relative);
        }
        for (Path part : p) {
            if (part.toString().equals("..")) {
                throw new PathRefused("path leaves the working directory: " + relative);
            }
        }
        Path target = root.resolve(p).normalize();
        Path existing = target;
        while (existing != null && !Files.exists(existing, LinkOption.NOFOLLOW_LINKS)) {
            existing = existing.getParent();
        }
        if (existing == null || !existing.toRealPath().startsWith(root)) {
            throw new PathRefused("path leads out of the working directory: " + relative);
        }
        if (Files.isSymbolicLink(target) && !target.toRealPath().startsWith(root)) {
            throw new PathRefused("path leads out of the working directory: " + relative);
        }
        return target;
    }

    private Object exec(Worker.JobContext job) throws Exception {
        Map<String, Object> p = job.parameters();
        List<String> command = strings(p.get("command"));
        if (command.isEmpty()) {
            throw new IllegalArgumentException("command is empty");
        }
        Path dir = resolve(p.get("dir") == null ? null : p.get("dir").toString());
        int timeout = p.get("timeout_seconds") instanceof Number n ? n.intValue() : 30;
        ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile());
        for (String e : strings(p.get("env"))) {
            int eq = e.indexOf('=');
            if (eq > 0) {
                pb.environment().put(e.substring(0, eq), e.substring(eq + 1));
            }
        }
        Process process = pb.start();
        CompletableFuture<byte[]> out = drain(process.getInputStream());
        CompletableFuture<byte[]> err = drain(process.getErrorStream());
        try (OutputStream in = process.getOutputStream()) {
            if (p.get("stdin") != null) {
                in.write(p.get("stdin").toString().getBytes(StandardCharsets.UTF_8));
            }
        } catch (IOException e) {
            // the command does not read its input
        }
        boolean finished;
        try {
            finished = process.waitFor(timeout, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            kill(process); // cancelled: nothing of it may keep running
            throw e;
        }
        if (!finished) {
            kill(process);
        }
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("stdout", text(out));
        result.put("stderr", text(err));
        result.put("exit_code", finished ? process.exitValue() : TIMED_OUT_EXIT);
        if (!finished) {
            result.put("timed_out", true);
        }
        return result;
    }

    private Object writeFile(Worker.JobContext job) throws Exception {
        Map<String, Object> p = job.parameters();
        String path = p.get("path") == null ? null : p.get("path").toString();
        if (path == null || path.isEmpty()) {
            throw new PathRefused("path is empty");
        }
        Path target = resolve(path);
        if (target.equals(root)) {
            throw new PathRefused("path names the working directory itself");
        }
        Files.createDirectories(target.getParent());
        resolve(path); // again, now that the directories exist
        String content = p.get("content") == null ? "" : p.get("content").toString();
        if (Files.isSymbolicLink(target)) {
            throw new PathRefused("path is a symlink: " + path);
        }
        Files.writeString(target, content, StandardCharsets.UTF_8);
        return Map.of("path", path, "bytes", content.getBytes(StandardCharsets.UTF_8).length);
    }

    private Object logs(Worker.JobContext job) throws Exception {
        Map<String, Object> p = job.parameters();
        String name = p.get("log_name") == null ? "stdout" : p.get("log_name").toString();
        int tail = p.get("tail") instanceof Number n ? n.intValue() : 200;
        Map<String, Object> result = new LinkedHashMap<>();
        if (name.equals("all")) {
            StringBuilder all = new StringBuilder();
            for (String log : LOG_NAMES) {
                String lines = tail(LOG_DIR + "/" + log + ".log", tail);
                if (lines != null) {
                    all.append("==> ").append(log).append(" <==\n").append(lines);
                }
            }
            result.put("log_path", LOG_DIR);
            result.put("content", all.toString());
            result.put("exit_code", 0);
            return result;
        }
        if (!LOG_NAMES.contains(name)) {
            throw new IllegalArgumentException("unknown log " + name);
        }
        String path = LOG_DIR + "/" + name + ".log";
        String lines = tail(path, tail);
        result.put("log_path", path);
        result.put("content", lines == null ? "" : lines);
        result.put("exit_code", lines == null ? 1 : 0);
        if (lines == null) {
            result.put("stderr", "no such log: " + path + "\n");
        }
        return result;
    }

    /** The last {@code n} lines of a file in the working directory, or null when it does not exist. */
    private String tail(String relative, int n) throws Exception {
        Path file = resolve(relative);
        Deque<String> last = new ArrayDeque<>();
        try (var lines = Files.lines(file, StandardCharsets.UTF_8)) {
            lines.forEach(l -> {
                last.addLast(l);
                if (last.size() > n) {
                    last.removeFirst();
                }
            });
        } catch (NoSuchFileException e) {
            return null;
        }
        StringBuilder b = new StringBuilder();
        last.forEach(l -> b.append(l).append('\n'));
        return b.toString();
    }

    private static void kill(Process process) {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
        try {
            process.waitFor(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static CompletableFuture<byte[]> drain(InputStream in) {
        return CompletableFuture.supplyAsync(() -> {
            ByteArrayOutputStream buf = new ByteArrayOutputStream();
            byte[] chunk = new byte[8192];
            try (in) {
                int r;
                while ((r = in.read(chunk)) >= 0) {
                    if (buf.size() < MAX_OUTPUT_BYTES) {
                        buf.write(chunk, 0, Math.min(r, MAX_OUTPUT_BYTES - buf.size()));
                    }
                }
            } catch (IOException e) {
                // the process was killed
            }
            return buf.toByteArray();
        });
    }

    private static String text(CompletableFuture<byte[]> f) {
        try {
            return new String(f.get(5, TimeUnit.SECONDS), StandardCharsets.UTF_8);
        } catch (Exception e) {
            return "";
        }
    }

    private static List<String> strings(Object o) {
        List<String> out = new ArrayList<>();
        if (o instanceof List<?> l) {
            for (Object x : l) {
                out.add(String.valueOf(x));
            }
        }
        return out;
    }
}
