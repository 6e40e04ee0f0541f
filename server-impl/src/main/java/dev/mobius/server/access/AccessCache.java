package dev.mobius.server.access;

import dev.mobius.server.tenancy.ProjectDao;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;
import java.util.function.Supplier;
import javax.sql.DataSource;
import org.jdbi.v3.core.Jdbi;

/**
 * What this node has read about presented keys and about what their principals may do in each
 * project, so that a request spends one short read on access instead of two statements.
 *
 * <p>Every write that could change an answer (a key revoked or expired early, a principal disabled,
 * a role's permissions or an assignment changed, a project renamed or deleted) moves the access
 * epoch, a one-row table, from a trigger in the writing transaction (migration V17), whatever
 * wrote it. Each request reads the epoch once, as it begins ({@link #view}), and uses only what
 * this node read under that same epoch; anything older is read again. So a change holds on every
 * node from the first request that starts after it commits, with no notification to wait for and
 * no window in which a node still answers from memory. Entries are tagged with the epoch read
 * before them: a change that commits between the two makes the entry older than its tag, never
 * newer, and the next epoch read discards it.
 *
 * <p>Memory only ever says yes: a remembered entry that would refuse the request (a revoked key, a
 * permission not held) is read again before the refusal, and an unknown key always reads the
 * database.
 */
public final class AccessCache {
    private static final String EPOCH = "SELECT epoch FROM access_epoch WHERE id = 1";
    /** Beyond this many entries in one map, it is emptied rather than tracked for the least used. */
    static final int MAX_ENTRIES = 20_000;

    private record Entry<T>(T value, long epoch) {}

    private record GrantsKey(String orgId, String principalId, String projectRef) {}

    private final Map<String, Entry<ApiKeyDao.Credential>> credentials = new ConcurrentHashMap<>();
    private final Map<GrantsKey, Entry<ProjectDao.Grants>> grants = new ConcurrentHashMap<>();
    /** The newest epoch seen; when it moves, everything older is dropped at once. */
    private volatile long newest;

    private final DataSource dataSource;
    private final Jdbi jdbi;

    public AccessCache(DataSource dataSource, Jdbi jdbi) {
        this.dataSource = dataSource;
        this.jdbi = jdbi;
    }

    /** Reads the access epoch: what the caller may use from memory for the rest of its request. */
    public View view() {
        long epoch;
        try (Connection c = dataSource.getConnection();
                PreparedStatement st = c.prepareStatement(EPOCH);
                ResultSet rs = st.executeQuery()) {
            rs.next();
            epoch = rs.getLong(1);
        } catch (SQLException e) {
            throw new IllegalStateException("reading the access epoch failed", e);
        }
        if (epoch > newest) {
            newest = epoch;
            credentials.clear();
            grants.clear();
        }
        return new View(epoch);
    }

    /** Access as of one epoch; belongs to one request. */
    public final class View {
        private final long epoch;

        private View(long epoch) {
            this.epoch = epoch;
        }

        /**
         * The credential whose secret hashes to {@code sha256}, if there is one; read again rather
         * than remembered when the remembered one is not {@code accepted}.
         */
        Optional<ApiKeyDao.Credential> credential(byte[] sha256, Predicate<ApiKeyDao.Credential> accepted) {
            return remembered(
                    credentials,
                    HexFormat.of().formatHex(sha256),
                    accepted,
                    () -> jdbi.withHandle(h -> ApiKeyDao.credential(h, sha256)));
        }

        /**
         * The project of the organization named {@code projectRef} (id or handle), with every
         * permission the principal holds there; read again when the remembered one is not
         * {@code accepted}. Whether the caller's key may reach the project is for the caller to check.
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
            Entry<T> entry = map.get(key);
            if (entry != null && entry.epoch() == epoch && accepted.test(entry.value())) {
                return Optional.of(entry.value());
            }
            Optional<T> loaded = load.get();
            if (loaded.isEmpty()) {
                map.remove(key);
            } else if (epoch == newest) {
                if (map.size() >= MAX_ENTRIES) {
                    map.clear();
                }
                map.put(key, new Entry<>(loaded.get(), epoch));
            }
            return loaded;
        }
    }
}
