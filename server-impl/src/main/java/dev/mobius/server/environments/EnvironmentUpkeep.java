package dev.mobius.server.environments;

import dev.mobius.server.background.PollingLoop;

/**
 * The environments' background work on every node: leases that ran out become {@code expired}
 * (and {@code lifetime: lease} environments are torn down with them), environments of ended runs
 * are torn down, and worker environments follow their worker sessions (orphaned when the last one
 * went stale). Everything is read from rows, so a restart or another node carries on where it was.
 */
public final class EnvironmentUpkeep implements AutoCloseable {
    private static final int BATCH = 100;
    /** Sessions change slowly (stale after 2 minutes): looked at every this many passes. */
    private static final int FOLLOW_EVERY = 10;

    private final PollingLoop loop;
    private int passes;

    public EnvironmentUpkeep(EnvironmentService environments, long idleMillis) {
        this.loop = new PollingLoop("environment-upkeep", idleMillis, () -> {
            if (passes++ % FOLLOW_EVERY == 0) {
                environments.followSessions(BATCH);
            }
            return environments.upkeep(BATCH);
        });
    }

    public void start() {
        loop.start();
    }

    @Override
    public void close() {
        loop.close();
    }
}
