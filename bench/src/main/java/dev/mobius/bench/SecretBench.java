package dev.mobius.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mobius.server.MobiusServer;
import dev.mobius.server.ServerConfig;
import dev.mobius.server.access.RateLimiter;
import dev.mobius.server.db.Daos;
import dev.mobius.server.ids.Ids;
import dev.mobius.server.secrets.Envelope;
import dev.mobius.server.secrets.MasterKeySettings;
import dev.mobius.server.secrets.MasterKeys;
import dev.mobius.server.secrets.SecretDao;
import dev.mobius.server.secrets.SecretStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.function.Function;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;

/**
 * Reading a secret version the way the server does when it signs or calls out: one transaction
 * that selects the version's boxes and opens them (unwrap the data key under the master key,
 * decrypt the values, parse them). Beside it, in the same sitting and JVM, the same statement
 * without opening anything, so the ratio says what the envelope costs on top of the read.
 *
 * <p>Starts a server on the embedded database (durable) with a known master key, creates 1,000
 * secrets of three values each through the store, then for each target a warm-up and a measured
 * interval of {@code threads} threads reading random versions back to back: (1) the plain read,
 * (2) the read with decryption, (3) the plain read again (drift). Prints reads/s, p50, p99.
 *
 * <p>{@code java -cp bench/target/mobius-bench-0.1.0-SNAPSHOT.jar:$(cat /tmp/cp.txt) dev.mobius.bench.SecretBench 8 5 10}
 * (threads, warm-up seconds, measured seconds per target).
 */
public final class SecretBench {
    private SecretBench() {}

    record Result(long reads, double seconds, double p50Millis, double p99Millis) {
        double perSecond() {
            return reads / seconds;
        }
    }

    public static void main(String[] args) throws Exception {
        int threads = args.length > 0 ? Integer.parseInt(args[0]) : 8;
        int warmupSeconds = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        int measureSeconds = args.length > 2 ? Integer.parseInt(args[2]) : 10;
        Path dir = Files.createTempDirectory("mobius-bench-");
        String masterKey = MasterKeys.generate();
        ServerConfig config = new ServerConfig(
                        "127.0.0.1", 0, null, dir, true, RunBench.KEY, false, new RateLimiter.Limits(0, 0))
                .withMasterKey(MasterKeySettings.DEFAULTS.withKey(masterKey));
        try (MobiusServer server = MobiusServer.start(config)) {
            Jdbi jdbi = server.database().jdbi();
            SecretStore store = new SecretStore(
                    new Ids(),
                    new Envelope(MasterKeys.of(Base64.getDecoder().decode(masterKey), List.of()), new ObjectMapper()));
            List<String> ids = jdbi.inTransaction(h -> {
                String org = h.createQuery("SELECT id FROM organizations")
                        .mapTo(String.class)
                        .one();
                String project = h.createQuery("SELECT id FROM projects WHERE handle = 'default'")
                        .mapTo(String.class)
                        .one();
                List<String> out = new ArrayList<>();
                for (int i = 0; i < 1000; i++) {
                    out.add(store.create(
                                    h,
                                    org,
                                    project,
                                    "bench-" + i,
                                    "project",
                                    null,
                                    Map.of("token", "t-" + i + "-".repeat(40), "user", "bench", "region", "eu-west-1"),
                                    null)
                            .secret()
                            .id());
                }
                return out;
            });
            Function<Handle, Object> plain =
                    h -> Daos.of(h, SecretDao.class).sealed(pick(ids), 1).orElseThrow();
            Function<Handle, Object> opened = h -> store.values(h, pick(ids), 1).orElseThrow();
            List<String> names = List.of("read only", "read + decrypt", "read only again");
            List<Function<Handle, Object>> targets = List.of(plain, opened, plain);
            for (Function<Handle, Object> t : targets) {
                measure(jdbi, t, threads, warmupSeconds);
            }
            List<Result> results = new ArrayList<>();
            for (int i = 0; i < targets.size(); i++) {
                Result r = measure(jdbi, targets.get(i), threads, measureSeconds);
                results.add(r);
                System.out.printf(
                        "secret bench: %-16s %8.0f reads/s  p50 %6.3f ms  p99 %6.3f ms  (%d reads in %.2f s)%n",
                        names.get(i), r.perSecond(), r.p50Millis(), r.p99Millis(), r.reads(), r.seconds());
            }
            double baseline = (results.get(0).perSecond() + results.get(2).perSecond()) / 2;
            System.out.printf(
                    "secret bench: read + decrypt = %.0f %% of the plain read's rate (%d threads)%n",
                    100 * results.get(1).perSecond() / baseline, threads);
        } finally {
            Figures.deleteTree(dir);
        }
    }

    private static String pick(List<String> ids) {
        return ids.get(java.util.concurrent.ThreadLocalRandom.current().nextInt(ids.size()));
    }

    private static Result measure(Jdbi jdbi, Function<Handle, Object> read, int threads, int seconds)
            throws InterruptedException {
        List<Double> samples = Collections.synchronizedList(new ArrayList<>());
        long end = System.nanoTime() + seconds * 1_000_000_000L;
        CountDownLatch done = new CountDownLatch(threads);
        long start = System.nanoTime();
        for (int i = 0; i < threads; i++) {
            Thread t = new Thread(() -> {
                List<Double> mine = new ArrayList<>();
                while (System.nanoTime() < end) {
                    long t0 = System.nanoTime();
                    jdbi.inTransaction(h -> read.apply(h));
                    mine.add((System.nanoTime() - t0) / 1e6);
                }
                samples.addAll(mine);
                done.countDown();
            });
            t.start();
        }
        done.await();
        double elapsed = (System.nanoTime() - start) / 1e9;
        List<Double> sorted = new ArrayList<>(samples);
        Collections.sort(sorted);
        return new Result(sorted.size(), elapsed, Figures.pct(sorted, 50), Figures.pct(sorted, 99));
    }
}
