package dev.mobius.bench;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How many open event streams one server holds, what they cost, and how fast events still arrive
 * while they are all open.
 *
 * <p>Starts the server as its own process (so its memory is its own: {@code VmRSS} from
 * {@code /proc/<pid>/status}, heap from {@code jcmd <pid> GC.heap_info}), starts N runs of a
 * one-step automation that waits for an event (so every run stays suspended and its stream stays
 * open), signals as many spare runs as there will be samples with no stream open (what a signal
 * costs by itself), opens one stream per run with a small NIO client (two selector threads; a
 * connection costs the client one socket and a few hundred bytes), waits, then signals a sample of
 * the runs one at a time, ten a second, and times each signal until the first event frame it
 * causes arrives on that run's stream, with every other stream still open. It also reports the
 * live heap the streams added by class (two class histograms), the server's CPU while idle, its
 * GC pauses ({@code -Xlog:gc}; the log and the server's own log are kept in
 * {@code bench/target/stream-bench/}) and, with {@code -XX:NativeMemoryTracking=summary} among the
 * server options, its native memory. Bounded in count and time; everything is on loopback.
 *
 * <p>{@code bench/stream-bench.sh [streams] [samples]} (defaults 10000 and 300); the script raises
 * the open-file limit and sets the JVM flags. Arguments: streams, samples, server JVM options
 * (one string, split on spaces), seconds to stay idle with every stream open before measuring.
 */
public final class StreamBench {
    private static final Pattern LISTENING = Pattern.compile("Mobius listening on http://127\\.0\\.0\\.1:(\\d+)");
    private static final byte[] EVENT = "\nevent: ".getBytes(StandardCharsets.US_ASCII);
    /** The last chunk of a chunked body: the server ended the stream (the connection itself stays open). */
    private static final byte[] END = "\n0\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

    public static void main(String[] args) throws Exception {
        int streams = args.length > 0 ? Integer.parseInt(args[0]) : 10_000;
        int samples = args.length > 1 ? Integer.parseInt(args[1]) : 300;
        String serverOpts = args.length > 2
                ? args[2]
                : "-Xms512m -Xmx512m -XX:-G1UseAdaptiveIHOP -XX:InitiatingHeapOccupancyPercent=70";
        int idleSeconds = args.length > 3 ? Integer.parseInt(args[3]) : 5;
        Path dir = Files.createTempDirectory("mobius-stream-bench-");
        Server server = Server.start(dir, serverOpts);
        Clients clients = null;
        try {
            String base = "http://127.0.0.1:" + server.port;
            System.out.printf("server pid %d, JVM options: %s%n", server.process.pid(), serverOpts);
            RunBench.call(base, "POST", RunBench.P + "/automations", "{\"handle\":\"hold\",\"name\":\"hold\"}");
            RunBench.call(
                    base,
                    "POST",
                    RunBench.P + "/automations/hold/versions",
                    "{\"spec\":{\"steps\":["
                            + "{\"key\":\"wait\",\"kind\":\"wait_for_event\",\"config\":{\"event_type\":\"bench.go\"}}]}}");
            RunBench.call(base, "POST", RunBench.P + "/automations/hold/versions/1/publication", null);

            long t0 = System.nanoTime();
            List<String> ids = RunBench.startMany(base, streams + samples, 16, "hold");
            long t1 = System.nanoTime();
            while (RunBench.count(base, "suspended") < streams + samples && System.nanoTime() - t1 < 300e9) {
                Thread.sleep(500);
            }
            System.out.printf(
                    "%d runs started and suspended in %.1f s%n", streams + samples, (System.nanoTime() - t0) / 1e9);
            // The same signals with no stream open: what the signal itself costs, for comparison.
            List<String> spare = ids.subList(streams, ids.size());
            ids = ids.subList(0, streams);
            List<Double> alone = new ArrayList<>();
            long a0 = System.nanoTime();
            for (int i = 0; i < spare.size(); i++) {
                long sent = System.nanoTime();
                RunBench.call(
                        base, "POST", RunBench.P + "/runs/" + spare.get(i) + "/signals", "{\"step_key\":\"wait\"}");
                alone.add((System.nanoTime() - sent) / 1e6);
                pace(a0, i);
            }
            Collections.sort(alone);
            System.out.printf(
                    "the signal request with no stream open (sent to answered), %d samples: p50 %.2f ms, p99 %.2f ms, max %.2f ms%n",
                    alone.size(), Figures.pct(alone, 50), Figures.pct(alone, 99), alone.get(alone.size() - 1));
            report("server before streams", server);
            java.util.Map<String, long[]> heapBefore = histogram(server);

            clients = new Clients(server.port, 2);
            long o0 = System.nanoTime();
            List<Conn> conns = clients.open(ids, 256);
            double openSeconds = (System.nanoTime() - o0) / 1e9;
            System.out.printf(
                    "streams open: %d of %d (opened in %.1f s, %.0f/s; %d failed)%n",
                    clients.open.get(), streams, openSeconds, clients.open.get() / openSeconds, clients.failed.get());
            int gcIdleStart = server.gcLog().size();
            double cpu0 = cpuSeconds(server);
            Thread.sleep(idleSeconds * 1000L);
            System.out.printf(
                    "  idle for %d s with every stream open: server CPU %.1f%% of one core; %s%n",
                    idleSeconds,
                    (cpuSeconds(server) - cpu0) * 100 / idleSeconds,
                    gcSummary(server.gcLog().subList(gcIdleStart, server.gcLog().size())));
            report("server with " + clients.open.get() + " streams open", server);
            growth(heapBefore, histogram(server), clients.open.get(), 15);

            // Publish-to-receive with every stream open: signal one run at a time, time its first frame.
            List<Double> latencies = new ArrayList<>();
            List<Double> answers = new ArrayList<>();
            List<Double> fromEvent = new ArrayList<>();
            int gcLinesBefore = server.gcLog().size();
            int lost = 0;
            int openAtStart = clients.open.get();
            int step = Math.max(1, conns.size() / Math.max(1, samples));
            long s0 = System.nanoTime();
            for (int i = 0; i < samples && i * step < conns.size(); i++) {
                Conn c = conns.get(i * step);
                CompletableFuture<Long> arrived = new CompletableFuture<>();
                c.frameText = new CompletableFuture<>();
                c.waiter = arrived;
                long sent = System.nanoTime();
                RunBench.call(base, "POST", RunBench.P + "/runs/" + c.runId + "/signals", "{\"step_key\":\"wait\"}");
                answers.add((System.nanoTime() - sent) / 1e6);
                try {
                    latencies.add((arrived.get(10, TimeUnit.SECONDS) - sent) / 1e6);
                    fromEvent.add(sinceCreated(c.frameText.get(10, TimeUnit.SECONDS)));
                } catch (java.util.concurrent.TimeoutException e) {
                    lost++;
                }
                pace(s0, i);
            }
            Collections.sort(latencies);
            Collections.sort(answers);
            Collections.sort(fromEvent);
            List<String> pauses =
                    server.gcLog().subList(gcLinesBefore, server.gcLog().size());
            System.out.printf(
                    "SSE publish-to-receive with %d streams open, %d samples over %.0f s: p50 %.2f ms, p99 %.2f ms, max %.2f ms"
                            + " (%d lost)%n",
                    openAtStart,
                    latencies.size(),
                    (System.nanoTime() - s0) / 1e9,
                    Figures.pct(latencies, 50),
                    Figures.pct(latencies, 99),
                    latencies.get(latencies.size() - 1),
                    lost);
            System.out.printf(
                    "  for comparison, the signal request itself (sent to answered): p50 %.2f ms, p99 %.2f ms%n",
                    Figures.pct(answers, 50), Figures.pct(answers, 99));
            System.out.printf(
                    "  the event's created_at (server clock, inside the signal's transaction) to received: p50 %.2f ms,"
                            + " p99 %.2f ms, max %.2f ms%n",
                    Figures.pct(fromEvent, 50), Figures.pct(fromEvent, 99), fromEvent.get(fromEvent.size() - 1));
            System.out.println("  " + gcSummary(pauses) + " in the server during the samples");
            System.out.printf(
                    "streams still open: %d (the %d signalled runs completed and their streams ended)%n",
                    clients.open.get(), latencies.size());
            report("server after the samples", server);
        } finally {
            if (clients != null) {
                clients.close();
            }
            server.stop();
            // The server's log and GC log outlive the run, for a closer look.
            Path keep = Path.of("bench", "target", "stream-bench");
            Files.createDirectories(keep);
            for (String name : List.of("server.log", "gc.log")) {
                if (Files.exists(dir.resolve(name))) {
                    Files.copy(
                            dir.resolve(name), keep.resolve(name), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                }
            }
            Figures.deleteTree(dir);
        }
        System.exit(0);
    }

    /** "<arrival instant> event: ...\ndata: {...\"created_at\":\"...\"...}" becomes the milliseconds between the two. */
    private static double sinceCreated(String arrivedFrame) {
        java.time.Instant arrived = java.time.Instant.parse(arrivedFrame.substring(0, arrivedFrame.indexOf(' ')));
        Matcher m = Pattern.compile("\"created_at\":\"([^\"]+)\"").matcher(arrivedFrame);
        if (!m.find()) {
            throw new IllegalStateException("no created_at in " + arrivedFrame);
        }
        java.time.Instant created = java.time.OffsetDateTime.parse(m.group(1)).toInstant();
        return java.time.Duration.between(created, arrived).toNanos() / 1e6;
    }

    /** Ten samples a second: 300 of them span two keepalive rounds (15 s each). */
    private static void pace(long start, int i) throws InterruptedException {
        long wait = start + (long) ((i + 1) * 100e6) - System.nanoTime();
        if (wait > 0) {
            Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
        }
    }

    /** CPU time (user + system) the process has used so far, in seconds, from /proc/<pid>/stat. */
    private static double cpuSeconds(Server server) throws IOException {
        String stat = Files.readString(Path.of("/proc/" + server.process.pid() + "/stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return (Long.parseLong(f[11]) + Long.parseLong(f[12])) / 100.0; // utime, stime in clock ticks (USER_HZ 100)
    }

    private static void report(String when, Server server) throws Exception {
        long pid = server.process.pid();
        String status = Files.readString(Path.of("/proc/" + pid + "/status"));
        String heap = jcmd(pid, "GC.heap_info");
        System.out.printf(
                "%s: RSS %s (peak %s), threads %s, heap %s%n",
                when, field(status, "VmRSS"), field(status, "VmHWM"), field(status, "Threads"), heapSummary(heap));
        if (server.nativeMemoryTracking) {
            System.out.println(
                    "  native memory (committed): " + nativeSummary(jcmd(pid, "VM.native_memory summary scale=MB")));
        }
        jcmd(pid, "GC.run");
        System.out.printf(
                "%s: after a full GC: RSS %s, heap %s%n",
                when,
                field(Files.readString(Path.of("/proc/" + pid + "/status")), "VmRSS"),
                heapSummary(jcmd(pid, "GC.heap_info")));
    }

    /** Live heap by class (from a histogram, which runs a full GC first): class name to {instances, bytes}. */
    private static java.util.Map<String, long[]> histogram(Server server) throws Exception {
        java.util.Map<String, long[]> classes = new java.util.HashMap<>();
        Matcher m = Pattern.compile("(?m)^\\s*\\d+:\\s+(\\d+)\\s+(\\d+)\\s+(\\S+)")
                .matcher(jcmd(server.process.pid(), "GC.class_histogram"));
        while (m.find()) {
            classes.put(m.group(3), new long[] {Long.parseLong(m.group(1)), Long.parseLong(m.group(2))});
        }
        return classes;
    }

    /** What the open streams added to the live heap, largest first, per stream. */
    private static void growth(
            java.util.Map<String, long[]> before, java.util.Map<String, long[]> after, int streams, int top) {
        long total = 0;
        List<java.util.Map.Entry<String, long[]>> delta = new ArrayList<>();
        for (var e : after.entrySet()) {
            long[] b = before.getOrDefault(e.getKey(), new long[2]);
            long[] d = {e.getValue()[0] - b[0], e.getValue()[1] - b[1]};
            total += d[1];
            delta.add(java.util.Map.entry(e.getKey(), d));
        }
        delta.sort(Comparator.comparingLong((java.util.Map.Entry<String, long[]> e) -> e.getValue()[1])
                .reversed());
        System.out.printf(
                "live heap added by %d streams: %.1f MiB, %.0f bytes a stream; largest by class:%n",
                streams, total / 1048576.0, (double) total / streams);
        for (int i = 0; i < top && i < delta.size(); i++) {
            long[] d = delta.get(i).getValue();
            System.out.printf(
                    "  %8.0f B/stream %7.1f objects/stream  %s%n",
                    (double) d[1] / streams,
                    (double) d[0] / streams,
                    delta.get(i).getKey());
        }
    }

    /** "-  Java Heap (reserved=512MB, committed=512MB)" lines become "Java Heap 512, Class 60, ...". */
    private static String nativeSummary(String nmt) {
        Matcher m = Pattern.compile("(?m)^-\\s+(.+?) \\(reserved=\\d+MB, committed=(\\d+)MB\\)")
                .matcher(nmt);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            if (Integer.parseInt(m.group(2)) > 0) {
                out.append(out.length() == 0 ? "" : ", ")
                        .append(m.group(1).trim())
                        .append(' ')
                        .append(m.group(2))
                        .append(" MiB");
            }
        }
        Matcher total =
                Pattern.compile("Total: reserved=\\d+MB, committed=(\\d+)MB").matcher(nmt);
        return (total.find() ? "total " + total.group(1) + " MiB: " : "") + out;
    }

    /** Pause count, total and longest from unified GC log lines ("... Pause Young ... 12.345ms"). */
    private static String gcSummary(List<String> lines) {
        Pattern pause = Pattern.compile("Pause.* (\\d+\\.\\d+)ms$");
        int n = 0;
        double total = 0;
        double max = 0;
        for (String line : lines) {
            Matcher m = pause.matcher(line);
            if (m.find()) {
                double ms = Double.parseDouble(m.group(1));
                n++;
                total += ms;
                max = Math.max(max, ms);
            }
        }
        return String.format("%d GC pauses, %.1f ms in all, longest %.1f ms,", n, total, max);
    }

    private static String jcmd(long pid, String command) throws Exception {
        Process p = new ProcessBuilder("jcmd", String.valueOf(pid), command)
                .redirectErrorStream(true)
                .start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor(60, TimeUnit.SECONDS);
        return out;
    }

    /** "garbage-first heap total 262144K, used 118340K" becomes "used 115.6 MiB of 256.0 MiB committed". */
    private static String heapSummary(String heapInfo) {
        Matcher m = Pattern.compile("heap\\s+total (\\d+)K, used (\\d+)K").matcher(heapInfo);
        if (!m.find()) {
            return heapInfo.strip();
        }
        return String.format(
                "used %.1f MiB of %.1f MiB committed",
                Long.parseLong(m.group(2)) / 1024.0, Long.parseLong(m.group(1)) / 1024.0);
    }

    private static String field(String status, String name) {
        for (String line : status.split("\n")) {
            if (line.startsWith(name + ":")) {
                String v = line.substring(name.length() + 1).trim();
                if (v.endsWith(" kB")) {
                    return String.format(
                            "%.1f MiB",
                            Long.parseLong(v.substring(0, v.length() - 3).trim()) / 1024.0);
                }
                return v;
            }
        }
        return "?";
    }

    /** The server as its own process, on the embedded database (durable settings), its output to a log file. */
    static final class Server {
        final Process process;
        final int port;
        final Path gcLog;
        final boolean nativeMemoryTracking;

        private Server(Process process, int port, Path gcLog, boolean nativeMemoryTracking) {
            this.process = process;
            this.port = port;
            this.gcLog = gcLog;
            this.nativeMemoryTracking = nativeMemoryTracking;
        }

        List<String> gcLog() throws IOException {
            return Files.readAllLines(gcLog);
        }

        static Server start(Path dir, String jvmOptions) throws Exception {
            List<String> command = new ArrayList<>();
            command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
            for (String o : jvmOptions.trim().split("\\s+")) {
                if (!o.isEmpty()) {
                    command.add(o);
                }
            }
            command.add("-Xlog:gc:file=" + dir.resolve("gc.log"));
            command.addAll(List.of(
                    "-cp",
                    System.getProperty("java.class.path"),
                    "dev.mobius.server.Main",
                    "--port",
                    "0",
                    "--data-dir",
                    dir.resolve("data").toString()));
            Path log = dir.resolve("server.log");
            ProcessBuilder pb =
                    new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
            pb.environment().put("MOBIUS_BOOTSTRAP_API_KEY", RunBench.KEY);
            pb.environment().put("MOBIUS_RATE_LIMIT_KEY_PER_MINUTE", "0");
            pb.environment().put("MOBIUS_RATE_LIMIT_ORG_PER_MINUTE", "0");
            pb.environment().remove("MOBIUS_DATABASE_URL");
            Process process = pb.start();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (System.nanoTime() < deadline && process.isAlive()) {
                Matcher m = LISTENING.matcher(Files.readString(log));
                if (m.find()) {
                    return new Server(
                            process,
                            Integer.parseInt(m.group(1)),
                            dir.resolve("gc.log"),
                            jvmOptions.contains("NativeMemoryTracking"));
                }
                Thread.sleep(200);
            }
            process.destroyForcibly();
            throw new IllegalStateException("server did not start:\n" + Files.readString(log));
        }

        void stop() throws InterruptedException {
            process.destroy();
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        }
    }

    /** One open stream, as the client sees it. */
    static final class Conn {
        final String runId;
        final SocketChannel channel;
        final StringBuilder head = new StringBuilder();
        boolean headersDone;
        int match;
        int endMatch;
        boolean ended;
        volatile CompletableFuture<Long> waiter;
        /** The first frame after the waiter was armed, as it arrives; with the wall-clock time of its arrival. */
        StringBuilder frame;

        volatile CompletableFuture<String> frameText;
        java.time.Instant frameAt;

        Conn(String runId, SocketChannel channel) {
            this.runId = runId;
            this.channel = channel;
        }
    }

    /**
     * Raw HTTP/1.1 event-stream readers on a couple of selector threads: a stream is a socket and a
     * few objects, so ten thousand of them cost the client little. Frames are only recognised
     * ({@code "\nevent: "} after a chunk-size line), never parsed.
     */
    static final class Clients {
        final InetSocketAddress address;
        final Loop[] loops;
        final AtomicInteger open = new AtomicInteger();
        final AtomicInteger failed = new AtomicInteger();
        Semaphore inFlight;

        Clients(int port, int threads) throws IOException {
            this.address = new InetSocketAddress("127.0.0.1", port);
            this.loops = new Loop[threads];
            for (int i = 0; i < threads; i++) {
                loops[i] = new Loop();
                Thread t = new Thread(loops[i], "sse-client-" + i);
                t.setDaemon(true);
                t.start();
            }
        }

        /** Opens a stream per run, at most {@code concurrency} waiting for their response headers at once. */
        List<Conn> open(List<String> runIds, int concurrency) throws Exception {
            inFlight = new Semaphore(concurrency);
            List<Conn> conns = new ArrayList<>();
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
            for (int i = 0; i < runIds.size() && System.nanoTime() < deadline; i++) {
                inFlight.acquire();
                SocketChannel ch = SocketChannel.open();
                ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
                ch.connect(address);
                ch.configureBlocking(false);
                String runId = runIds.get(i);
                ByteBuffer request =
                        ByteBuffer.wrap(("GET " + RunBench.P + "/runs/" + runId + "/events.stream HTTP/1.1\r\n"
                                        + "Host: 127.0.0.1\r\nAccept: text/event-stream\r\nAuthorization: Bearer "
                                        + RunBench.KEY + "\r\n\r\n")
                                .getBytes(StandardCharsets.US_ASCII));
                while (request.hasRemaining()) {
                    ch.write(request);
                }
                Conn c = new Conn(runId, ch);
                conns.add(c);
                loops[i % loops.length].add(c);
            }
            // Wait for the last responses' headers.
            inFlight.acquire(concurrency);
            inFlight.release(concurrency);
            return conns;
        }

        void close() {
            for (Loop l : loops) {
                l.running = false;
                l.selector.wakeup();
            }
        }

        final class Loop implements Runnable {
            final Selector selector;
            final Queue<Conn> added = new ConcurrentLinkedQueue<>();
            final ByteBuffer buffer = ByteBuffer.allocateDirect(64 * 1024);
            volatile boolean running = true;

            Loop() throws IOException {
                this.selector = Selector.open();
            }

            void add(Conn c) {
                added.add(c);
                selector.wakeup();
            }

            @Override
            public void run() {
                try {
                    while (running) {
                        selector.select(1000);
                        Conn c;
                        while ((c = added.poll()) != null) {
                            try {
                                c.channel.register(selector, SelectionKey.OP_READ, c);
                            } catch (ClosedChannelException e) {
                                failed.incrementAndGet();
                                inFlight.release();
                            }
                        }
                        for (SelectionKey key : selector.selectedKeys()) {
                            read(key, (Conn) key.attachment());
                        }
                        selector.selectedKeys().clear();
                    }
                    for (SelectionKey key : selector.keys()) {
                        key.channel().close();
                    }
                    selector.close();
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }

            private void read(SelectionKey key, Conn c) {
                long now = System.nanoTime();
                int n;
                buffer.clear();
                try {
                    n = c.channel.read(buffer);
                } catch (IOException e) {
                    n = -1;
                }
                if (n < 0) {
                    key.cancel();
                    try {
                        c.channel.close();
                    } catch (IOException ignored) {
                        // closing anyway
                    }
                    if (c.headersDone) {
                        if (!c.ended) {
                            c.ended = true;
                            open.decrementAndGet();
                        }
                    } else {
                        failed.incrementAndGet();
                        inFlight.release();
                    }
                    return;
                }
                buffer.flip();
                while (buffer.hasRemaining()) {
                    byte b = buffer.get();
                    if (!c.headersDone) {
                        c.head.append((char) b);
                        int len = c.head.length();
                        if (b == '\n' && len >= 4 && c.head.charAt(len - 2) == '\r' && c.head.charAt(len - 3) == '\n') {
                            c.headersDone = true;
                            if (c.head.toString().startsWith("HTTP/1.1 200")) {
                                open.incrementAndGet();
                            } else {
                                failed.incrementAndGet();
                                System.err.println(
                                        "stream refused: " + c.head.toString().split("\r\n")[0]);
                            }
                            inFlight.release();
                        }
                        continue;
                    }
                    if (c.frame != null) {
                        c.frame.append((char) b);
                        int len = c.frame.length();
                        if (len >= 2 && c.frame.charAt(len - 1) == '\n' && c.frame.charAt(len - 2) == '\n') {
                            c.frameText.complete(c.frameAt + " " + c.frame);
                            c.frame = null;
                        }
                    }
                    if (b == END[c.endMatch]) {
                        if (++c.endMatch == END.length) {
                            c.endMatch = 0;
                            if (!c.ended) {
                                c.ended = true;
                                open.decrementAndGet();
                            }
                        }
                    } else {
                        c.endMatch = b == END[0] ? 1 : 0;
                    }
                    if (b == EVENT[c.match]) {
                        if (++c.match == EVENT.length) {
                            c.match = 0;
                            CompletableFuture<Long> w = c.waiter;
                            if (w != null && w.complete(now)) {
                                c.frame = new StringBuilder("event: ");
                                c.frameAt = java.time.Instant.now();
                            }
                        }
                    } else {
                        c.match = b == EVENT[0] ? 1 : 0;
                    }
                }
            }
        }
    }
}
