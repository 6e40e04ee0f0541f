package dev.mobius.server.background;

import dev.mobius.server.threads.Heartbeat;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The background loops of one node and how each is: the engine, the event dispatcher, the webhook
 * deliverer, the lease sweeper and the notifier. A loop is its threads, taken by name from the
 * threads that appeared while this node started them (so two nodes in one JVM keep apart), and the
 * heartbeats those threads beat once per round. A loop whose thread ended has stopped (it does not
 * come back); one whose thread lives but has not gone round for the stall limit is stalled (waiting
 * on a lock or a call that does not return). Either makes the node not ready.
 */
public final class Readiness {
    /** A loop's name, the prefixes of its threads' names (each must match a live thread), its heartbeats. */
    public record Loop(String name, List<String> threadPrefixes, List<Heartbeat> heartbeats) {}

    /** How a loop is. */
    public enum State {
        RUNNING,
        STALLED,
        STOPPED
    }

    private final Map<String, List<Thread>> threads = new LinkedHashMap<>();
    private final Map<String, List<Heartbeat>> heartbeats = new LinkedHashMap<>();
    private final long stallAfterNanos;

    private Readiness(Duration stallAfter) {
        this.stallAfterNanos = stallAfter.toNanos();
    }

    /** The live threads now, to compare with after the loops are started. */
    public static Set<Thread> snapshot() {
        ThreadGroup root = Thread.currentThread().getThreadGroup();
        while (root.getParent() != null) {
            root = root.getParent();
        }
        Thread[] all = new Thread[root.activeCount() * 2 + 16];
        int n = root.enumerate(all, true);
        return Arrays.stream(all, 0, n).collect(Collectors.toSet());
    }

    /** The loops' threads among those that appeared since {@code before}. */
    public static Readiness of(Set<Thread> before, List<Loop> loops, Duration stallAfter) {
        Readiness readiness = new Readiness(stallAfter);
        List<Thread> started = new ArrayList<>(snapshot());
        started.removeAll(before);
        for (Loop loop : loops) {
            List<Thread> own = new ArrayList<>();
            for (String prefix : loop.threadPrefixes()) {
                started.stream().filter(t -> t.getName().startsWith(prefix)).forEach(own::add);
            }
            readiness.threads.put(loop.name(), own);
            readiness.heartbeats.put(loop.name(), List.copyOf(loop.heartbeats()));
        }
        return readiness;
    }

    /** Each loop and how it is: stopped (a thread ended, or none), stalled (a heartbeat silent too long), running. */
    public Map<String, State> loops() {
        Map<String, State> states = new LinkedHashMap<>();
        threads.forEach((name, list) -> {
            if (list.isEmpty() || !list.stream().allMatch(Thread::isAlive)) {
                states.put(name, State.STOPPED);
            } else if (heartbeats.get(name).stream().anyMatch(h -> h.silentNanos() > stallAfterNanos)) {
                states.put(name, State.STALLED);
            } else {
                states.put(name, State.RUNNING);
            }
        });
        return states;
    }

    /** The loops that are not running (stopped or stalled); empty when the node is ready. */
    public List<String> notRunning() {
        return loops().entrySet().stream()
                .filter(e -> e.getValue() != State.RUNNING)
                .map(Map.Entry::getKey)
                .toList();
    }

    /** The threads of a loop (tests stop one to see readiness fail). */
    public List<Thread> threadsOf(String loop) {
        return List.copyOf(threads.getOrDefault(loop, List.of()));
    }
}
