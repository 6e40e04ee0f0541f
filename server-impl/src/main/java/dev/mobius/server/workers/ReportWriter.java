package dev.mobius.server.workers;

import static dev.mobius.server.threads.Threads.daemon;

import dev.mobius.server.jobs.JobQueue;
import dev.mobius.server.threads.Threads;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Job reports, written in batches on one thread: one transaction records every report that
 * arrived together (from any number of workers), then each is answered on its own connection.
 */
final class ReportWriter implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ReportWriter.class);
    private static final int BATCH = 512;

    private final Jdbi jdbi;
    private final JobQueue queue;
    private final WorkerSessions sessions;
    private final WorkerConnections connections;
    private final BlockingQueue<PendingReport> reports = new ArrayBlockingQueue<>(65536);
    private final Thread thread = daemon(this::writeReports, "worker-reports");
    private volatile boolean running = true;

    ReportWriter(Jdbi jdbi, JobQueue queue, WorkerSessions sessions, WorkerConnections connections) {
        this.jdbi = jdbi;
        this.queue = queue;
        this.sessions = sessions;
        this.connections = connections;
    }

    private record PendingReport(WorkerConnection connection, Frames.Report report) {}

    void start() {
        thread.start();
    }

    /** Queues a (validated) report for the next batch. */
    void submit(WorkerConnection c, Frames.Report r) {
        PendingReport p = new PendingReport(c, r);
        if (!reports.offer(p)) {
            process(List.of(p)); // backlog full: write it on this thread rather than drop it
        }
    }

    private void writeReports() {
        List<PendingReport> batch = new ArrayList<>(BATCH);
        while (running || !reports.isEmpty()) {
            try {
                PendingReport first = reports.poll(200, TimeUnit.MILLISECONDS);
                if (first == null) {
                    continue;
                }
                batch.add(first);
                reports.drainTo(batch, BATCH - 1);
                process(batch);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (RuntimeException e) {
                log.warn("report batch failed", e);
            } finally {
                batch.clear();
            }
        }
    }

    /** One transaction for the whole batch; if it fails, each report gets its own. */
    private void process(List<PendingReport> batch) {
        List<JobQueue.ReportOutcome> outcomes;
        try {
            outcomes = jdbi.inTransaction(h -> record(h, batch));
        } catch (RuntimeException e) {
            if (batch.size() == 1) {
                log.warn("report of job {} failed", batch.get(0).report().jobId(), e);
                Frames.Report r = batch.get(0).report();
                connections.send(
                        batch.get(0).connection(),
                        new Frames.Error(
                                r.messageId(),
                                new Frames.ProtocolError("internal", "the report could not be recorded")));
                return;
            }
            for (PendingReport p : batch) {
                process(List.of(p));
            }
            return;
        }
        for (int i = 0; i < batch.size(); i++) {
            Frames.Report r = batch.get(i).report();
            WorkerConnection c = batch.get(i).connection();
            switch (outcomes.get(i)) {
                case RECORDED -> connections.send(c, new Frames.ReportAck(r.messageId(), r.jobId(), null));
                case DUPLICATE -> connections.send(c, new Frames.ReportAck(r.messageId(), r.jobId(), true));
                case LEASE_LOST ->
                    connections.send(
                            c,
                            new Frames.Error(
                                    r.messageId(),
                                    new Frames.ProtocolError(
                                            "lease_lost", "job \"" + r.jobId() + "\" is not leased with this token")));
                case NOT_FOUND ->
                    connections.send(
                            c,
                            new Frames.Error(
                                    r.messageId(),
                                    new Frames.ProtocolError("not_found", "job \"" + r.jobId() + "\" not found")));
            }
        }
    }

    /** The batch's reports in one statement, then each session's last job in one more. */
    private List<JobQueue.ReportOutcome> record(Handle h, List<PendingReport> batch) {
        List<JobQueue.ReportCommand> commands = new ArrayList<>(batch.size());
        for (PendingReport p : batch) {
            Frames.Report r = p.report();
            commands.add(new JobQueue.ReportCommand(
                    r.jobId(), r.leaseToken(), r.status(), r.result(), r.errorType(), r.errorMessage()));
        }
        List<JobQueue.ReportOutcome> outcomes = queue.reportAll(h, commands);
        Map<String, String> lastJob = new LinkedHashMap<>();
        for (int i = 0; i < batch.size(); i++) {
            if (outcomes.get(i) == JobQueue.ReportOutcome.RECORDED
                    && batch.get(i).connection().sessionId != null) {
                lastJob.put(
                        batch.get(i).connection().sessionId,
                        batch.get(i).report().jobId());
            }
        }
        if (!lastJob.isEmpty()) {
            sessions.lastJobs(h, lastJob);
        }
        return outcomes;
    }

    /** Writes what is queued, then stops. */
    @Override
    public void close() {
        running = false;
        Threads.joinQuietly(thread, 2000);
    }
}
