package dev.mobius.server.background;

import dev.mobius.server.threads.Threads;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.FutureTask;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * The calls a claiming loop made for the rows it claimed: a fixed number of slots, each call on a
 * pool thread of its own and known by its row's id while it runs, so that a cancellation recorded
 * meanwhile interrupts it. The loop claims at most {@link #free()} rows a round.
 */
public final class CallPool implements AutoCloseable {
    private final ExecutorService pool;
    private final Semaphore slots;
    private final Map<String, Future<?>> inFlight = new ConcurrentHashMap<>();
    private final Runnable afterEach;

    /**
     * @param threadPrefix names the threads {@code <prefix>-1}, {@code <prefix>-2}, ...
     * @param size how many calls run at once
     * @param afterEach runs after each call, once its slot is free again (a nudge to claim more)
     */
    public CallPool(String threadPrefix, int size, Runnable afterEach) {
        this.pool = Executors.newFixedThreadPool(size, Threads.numberedDaemons(threadPrefix));
        this.slots = new Semaphore(size);
        this.afterEach = afterEach;
    }

    /** Slots free now: how many rows a round may claim. */
    public int free() {
        return slots.availablePermits();
    }

    /** Takes a slot (waiting for one) and makes the call on a pool thread; the slot is freed when it ends. */
    public void submit(String id, Runnable call) {
        slots.acquireUninterruptibly();
        FutureTask<Void> task = new FutureTask<>(
                () -> {
                    try {
                        call.run();
                    } finally {
                        inFlight.remove(id);
                        slots.release();
                        afterEach.run();
                    }
                },
                null);
        // Known before it runs: a call that ends at once leaves no entry behind.
        inFlight.put(id, task);
        pool.execute(task);
    }

    /**
     * Interrupts the running calls whose rows {@code cancelledAmong} finds cancelled (given the ids
     * in flight, it answers those of them to abandon). No query while nothing runs.
     */
    public void cancel(Function<List<String>, List<String>> cancelledAmong) {
        if (inFlight.isEmpty()) {
            return;
        }
        for (String id : cancelledAmong.apply(List.copyOf(inFlight.keySet()))) {
            Future<?> call = inFlight.get(id);
            if (call != null) {
                call.cancel(true);
            }
        }
    }

    /** Interrupts every call and waits up to 5 s for the threads to end. */
    @Override
    public void close() {
        pool.shutdownNow();
        try {
            pool.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
