package dev.mobius.server.mogplex.runs;

import dev.mobius.server.background.PollingLoop;
import dev.mobius.server.db.Notifier;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * Moves agent runs on every node: a polling loop takes unfinished runs that are due and advances
 * each in its own transaction (another node's run is skipped, not waited for). The end of a job
 * pinned to an environment is announced on {@code mobius_environment_jobs} (migration V25); the
 * runs waiting on it are made due at once. A lost notification costs a second: unfinished runs are
 * looked at again that often.
 */
public final class AgentRunner implements Notifier.Listener, AutoCloseable {
    static final String JOBS_CHANNEL = "mobius_environment_jobs";
    private static final int BATCH = 50;

    private final AgentRunService runs;
    private final PollingLoop loop;
    private final ConcurrentLinkedQueue<String> ended = new ConcurrentLinkedQueue<>();

    public AgentRunner(AgentRunService runs, Notifier notifier, long idleMillis) {
        this.runs = runs;
        this.loop = new PollingLoop("mogplex-runs", idleMillis, this::pass);
        notifier.subscribe(JOBS_CHANNEL, this);
    }

    /** Looks now rather than after the idle wait. */
    public void nudge() {
        loop.nudge();
    }

    private boolean pass() {
        List<String> jobs = new ArrayList<>();
        for (String id; (id = ended.poll()) != null; ) {
            jobs.add(id);
        }
        runs.jobsEnded(jobs);
        List<String> due = runs.due(BATCH);
        for (String id : due) {
            runs.advance(id);
        }
        return due.size() == BATCH;
    }

    @Override
    public void notified(String payload) {
        ended.add(payload);
        loop.nudge();
    }

    @Override
    public void reconnected() {
        loop.nudge();
    }

    public void start() {
        loop.start();
    }

    @Override
    public void close() {
        loop.close();
    }
}
