package dev.mobius.server.access;

import dev.mobius.server.db.Notifier;
import dev.mobius.server.tenancy.ProjectDao;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.jdbi.v3.core.Jdbi;

/**
 * What this node has read about presented keys and about what their principals may do in each
 * project, so that a request does not spend two statements on access before its own work.
 *
 * <p>It is safe to remember these because every write that could change an answer (a key revoked
 * or expired early, a principal disabled, a role's permissions or an assignment changed, a project
 * renamed or deleted) is announced on {@link #TOPIC} by a trigger in the writing transaction
 * (migration V17), and every node's notifier empties its cache when the announcement arrives,
 * moments after the commit. Staleness is bounded in two more ways: an entry is used for at most
 * {@link #MAX_AGE_NANOS}, and nothing is remembered or used while the notifier is not listening
 * (before its first connection, and from a lost connection until it listens again), when an
 * announcement could be missed. Only found rows are remembered; an unknown key always reads the
 * database.
 *
 * <p>Memory only ever answers yes: a remembered entry that would refuse the request (a revoked key,
 * a permission not held) is read again before the refusal, so a grant never waits for an
 * announcement. A change made through this node waits, before its response leaves, until this
 * node has heard the change announced (see {@link #awaitAnnounced}), so by the time the client
 * can send its next request, PostgreSQL has handed the announcement to every node's connection.
 */
public final class AccessCache implements Notifier.Listener {
    public static final String TOPIC = "access_changed";
    static final long MAX_AGE_NANOS = TimeUnit.SECONDS.toNanos(10);
    /** Beyond this many entries in one map, it is emptied rather than tracked for the least used. */
    static final int MAX_ENTRIES = 20_000;

    private static final String BARRIER_PREFIX = "barrier:";

    private record Entry<T>(T value, long loadedAt) {}

    private record GrantsKey(String orgId, String principalId, String projectRef) {}

    private final Map<String, Entry<ApiKeyDao.Credential>> credentials = new ConcurrentHashMap<>();
    private final Map<GrantsKey, Entry<ProjectDao.Grants>> grants = new ConcurrentHashMap<>();
    /** Moves on every announcement: a load that overlapped one must not be remembered. */
    private final AtomicLong generation = new AtomicLong();

    /** Barriers this node announced and waits to hear back, by payload. */
    private final Map<String, CountDownLatch> barriers = new ConcurrentHashMap<>();

    private final Jdbi jdbi;
    private volatile boolean listening;

    public AccessCache(Jdbi jdbi) {
        this.jdbi = jdbi;
    }

    /**
     * The credential whose secret hashes to {@code sha256}, if there is one; read again rather than
     * remembered when the remembered one is not {@code accepted}.
     */
    Optional<ApiKeyDao.Credential> credential(byte[] sha256, Predicate<ApiKeyDao.Credential> accepted) {
        return remembered(
                credentials,
                HexFormat.of().formatHex(sha256),
                accepted,
                () -> jdbi.withHandle(h -> ApiKeyDao.credential(h, sha256)));
    }

    /**
     * The project of the organization named {@code projectRef} (id or handle), with every permission
     * the principal holds there; whether the caller's key may reach it is for the caller to check.
     */
    Optional<ProjectDao.Grants> grants(
            String orgId, String principalId, String projectRef, Predicate<ProjectDao.Grants> accepted) {
        return remembered(
                grants,
                new GrantsKey(orgId, principalId, projectRef),
                accepted,
                () -> jdbi.withHandle(h -> ProjectDao.grants(h, orgId, projectRef, principalId)));
    }

    private <K, T> Optional<T> remembered(
            Map<K, Entry<T>> map, K key, Predicate<T> accepted, Supplier<Optional<T>> load) {
        long now = System.nanoTime();
        boolean usable = listening;
        Entry<T> entry = map.get(key);
        if (usable && entry != null && now - entry.loadedAt() < MAX_AGE_NANOS && accepted.test(entry.value())) {
            return Optional.of(entry.value());
        }
        long seen = generation.get();
        Optional<T> loaded = load.get();
        if (usable && loaded.isPresent()) {
            if (map.size() >= MAX_ENTRIES) {
                map.clear();
            }
            map.put(key, new Entry<>(loaded.get(), now));
            // An announcement between the read and now: what was read may be older than it.
            if (generation.get() != seen || !listening) {
                map.remove(key);
            }
        }
        return loaded;
    }

    /** Forgets everything; the next request of each key reads the database again. */
    void forget() {
        generation.incrementAndGet();
        credentials.clear();
        grants.clear();
    }

    /**
     * Announces a barrier on {@link #TOPIC} and waits (at most {@code timeoutMillis}) until this
     * node's notifier hears it. Called after a change of access committed: PostgreSQL delivers
     * notifications in commit order, so hearing the barrier means this node has heard, and
     * acted on, the change's own announcement, which PostgreSQL handed to every listening node at
     * the same moment. Without a listening notifier nothing is remembered, so there is nothing to
     * wait for.
     */
    void awaitAnnounced(long timeoutMillis) {
        if (!listening) {
            return;
        }
        String barrier = BARRIER_PREFIX + UUID.randomUUID();
        CountDownLatch heard = new CountDownLatch(1);
        barriers.put(barrier, heard);
        try {
            jdbi.useHandle(h -> h.createQuery("SELECT pg_notify(:topic, :barrier)")
                    .bind("topic", TOPIC)
                    .bind("barrier", barrier)
                    .mapTo(String.class)
                    .one());
            heard.await(timeoutMillis, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            barriers.remove(barrier);
        }
        forget();
    }

    @Override
    public void notified(String payload) {
        CountDownLatch barrier = payload.startsWith(BARRIER_PREFIX) ? barriers.get(payload) : null;
        if (barrier != null) {
            barrier.countDown();
        } else {
            forget();
        }
    }

    @Override
    public void listening() {
        forget();
        listening = true;
    }

    @Override
    public void lost() {
        listening = false;
        forget();
    }
}
