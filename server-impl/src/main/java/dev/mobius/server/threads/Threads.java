package dev.mobius.server.threads;

import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/** Background threads are daemons: a server that is not closed must still let the JVM exit. */
public final class Threads {
    private Threads() {}

    /** An unstarted daemon thread. */
    public static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    /** Daemon threads that all carry {@code name}. */
    public static ThreadFactory daemons(String name) {
        return r -> daemon(r, name);
    }

    /** Daemon threads named {@code prefix-1}, {@code prefix-2}, ... */
    public static ThreadFactory numberedDaemons(String prefix) {
        AtomicInteger n = new AtomicInteger();
        return r -> daemon(r, prefix + "-" + n.incrementAndGet());
    }

    /** Sleeps; an interrupt ends the sleep early and stays set for the caller's loop to see. */
    public static void sleepQuietly(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Waits up to {@code millis} for a thread to end; an interrupt ends the wait and stays set. */
    public static void joinQuietly(Thread thread, long millis) {
        try {
            thread.join(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
