package dev.mobius.server.background;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The background loops of one node and whether each still runs: the engine, the event dispatcher,
 * the webhook deliverer, the lease sweeper and the notifier. A loop is its threads, taken by name
 * from the threads that appeared while this node started them (so two nodes in one JVM keep apart);
 * a loop whose thread ended has stopped, and the node is then not ready.
 */
public final class Readiness {
    /** A loop's name and the prefixes of its threads' names; each prefix must match a live thread. */
    public record Loop(String name, List<String> threadPrefixes) {}

    private final Map<String, List<Thread>> threads = new LinkedHashMap<>();

    private Readiness() {}

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
    public static Readiness of(Set<Thread> before, List<Loop> loops) {
        Readiness readiness = new Readiness();
        List<Thread> started = new ArrayList<>(snapshot());
        started.removeAll(before);
        for (Loop loop : loops) {
            List<Thread> own = new ArrayList<>();
            for (String prefix : loop.threadPrefixes()) {
                started.stream().filter(t -> t.getName().startsWith(prefix)).forEach(own::add);
            }
            readiness.threads.put(loop.name(), own);
        }
        return readiness;
    }

    /** Each loop and whether it runs (all its threads alive, and it has some). */
    public Map<String, Boolean> loops() {
        Map<String, Boolean> up = new LinkedHashMap<>();
        threads.forEach(
                (name, list) -> up.put(name, !list.isEmpty() && list.stream().allMatch(Thread::isAlive)));
        return up;
    }

    /** The loops that stopped; empty when the node is ready. */
    public List<String> stopped() {
        return loops().entrySet().stream()
                .filter(e -> !e.getValue())
                .map(Map.Entry::getKey)
                .toList();
    }

    /** The threads of a loop (tests stop one to see readiness fail). */
    public List<Thread> threadsOf(String loop) {
        return List.copyOf(threads.getOrDefault(loop, List.of()));
    }
}
