package dev.mobius.server.artifacts;

import dev.mobius.server.background.PollingLoop;

/**
 * The background loop of every node that ends artifacts on time: retention that ran out
 * ({@code expired}, bytes removed, quota released) and uploads abandoned by a server that stopped
 * midway ({@code failed}). Its state is the rows, so a restart or another node carries on.
 */
public final class ArtifactSweeper implements AutoCloseable {
    private final PollingLoop loop;

    public ArtifactSweeper(ArtifactService artifacts) {
        this.loop = new PollingLoop("artifact-sweeper", artifacts.settings().sweepMillis(), artifacts::sweep);
    }

    public void start() {
        loop.start();
    }

    @Override
    public void close() {
        loop.close();
    }
}
