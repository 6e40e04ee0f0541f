package dev.mobius.server.db;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.fail;

import dev.mobius.server.TestServer;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;

/**
 * The node's notifier on a real PostgreSQL: each topic's notifications reach that topic's
 * subscribers only, and when its connection is killed it connects again by itself, tells every
 * subscriber to catch up, and delivers what is sent afterwards.
 */
class NotifierTest {
    private static final String RUNS = "notifier_test_runs";
    private static final String JOBS = "notifier_test_jobs";

    @Test
    void topicsReachTheirSubscribersAndAKilledConnectionIsReopenedWithACatchUp() throws Exception {
        try (TestServer server = TestServer.start()) {
            DataSource ds = server.server().database().dataSource();
            BlockingQueue<String> runs = new LinkedBlockingQueue<>();
            BlockingQueue<String> jobs = new LinkedBlockingQueue<>();
            AtomicInteger catchUps = new AtomicInteger();
            try (Notifier notifier = new Notifier(ds)) {
                notifier.subscribe(RUNS, new Notifier.Listener() {
                    @Override
                    public void notified(String payload) {
                        runs.add(payload);
                    }

                    @Override
                    public void reconnected() {
                        catchUps.incrementAndGet();
                    }
                });
                notifier.start();
                // A topic followed after the connection is up is listened to as well.
                notifier.subscribe(JOBS, jobs::add);

                assertEquals("run_1", sendUntilHeard(ds, RUNS, "run_1", runs));
                assertEquals("w:prj_1", sendUntilHeard(ds, JOBS, "w:prj_1", jobs));
                assertNull(runs.poll(200, TimeUnit.MILLISECONDS), "a job notification is not a run notification");
                assertEquals(0, catchUps.get(), "nothing to catch up on the first connection");

                // Every other backend of the database goes, the notifier's LISTEN connection with them.
                try (Connection c = ds.getConnection();
                        Statement st = c.createStatement()) {
                    st.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                            + "WHERE datname = current_database() AND pid <> pg_backend_pid()");
                }
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (catchUps.get() == 0 && System.nanoTime() < deadline) {
                    Thread.sleep(50);
                }
                assertEquals(1, catchUps.get(), "the subscriber was told to catch up once, after the reconnect");
                runs.clear();
                jobs.clear();
                assertEquals("run_2", sendUntilHeard(ds, RUNS, "run_2", runs));
                assertEquals("c:job_2", sendUntilHeard(ds, JOBS, "c:job_2", jobs));
            }
        }
    }

    /** Sends until the subscriber hears it (the LISTEN may not be in place yet): @return what it heard */
    private static String sendUntilHeard(DataSource ds, String topic, String payload, BlockingQueue<String> heard)
            throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            try (Connection c = ds.getConnection();
                    PreparedStatement ps = c.prepareStatement("SELECT pg_notify(?, ?)")) {
                ps.setString(1, topic);
                ps.setString(2, payload);
                ps.execute();
            } catch (SQLException e) {
                // a pooled connection killed with the others: the next one works
            }
            String got = heard.poll(200, TimeUnit.MILLISECONDS);
            if (got != null) {
                return got;
            }
        }
        return fail("no notification on " + topic + " within 10 s");
    }
}
