package dev.mobius.server.repositories;

import dev.mobius.server.audit.AuditTrail;
import dev.mobius.server.db.Daos;
import dev.mobius.server.ids.Ids;
import dev.mobius.server.secrets.SecretDao;
import dev.mobius.server.secrets.SecretStore;
import dev.mobius.server.tenancy.Caller;
import dev.mobius.server.time.Times;
import java.time.OffsetDateTime;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;

/**
 * Environment variables of a repository, offered to the sandboxes and runs that work on it. Names,
 * targets and types are rows of {@code repository_env_vars}; every value is in one secret of the
 * secret store owned by the repository ({@code mobius/repository/<id>}), replaced whole at each
 * change so a removed value is gone, not kept in an older version. Values leave only through
 * {@link #values}; nothing here logs them.
 */
public final class RepositoryEnvVars {
    public static final List<String> ALL_TARGETS = List.of("production", "preview", "development");

    /** A variable as listed: never its value. */
    public record EnvVar(String id, String key, List<String> targets, String type, OffsetDateTime updatedAt) {}

    /** What a set did: {@code created} or {@code updated}, and how many entries it touched. */
    public record SetResult(String action, String key, int updatedCount) {}

    private final Jdbi jdbi;
    private final Ids ids;
    private final SecretStore store;
    private final AuditTrail audit;

    public RepositoryEnvVars(Jdbi jdbi, Ids ids, SecretStore store, AuditTrail audit) {
        this.jdbi = jdbi;
        this.ids = ids;
        this.store = store;
        this.audit = audit;
    }

    /** The variables of a repository of the project, by name; empty when there is no such repository. */
    public Optional<List<EnvVar>> list(String projectId, String repositoryId) {
        return jdbi.withHandle(h -> RepositoryService.find(h, projectId, repositoryId)
                .map(repo -> Daos.of(h, EnvVarDao.class).list(repo.id()).stream()
                        .map(RepositoryEnvVars::view)
                        .toList()));
    }

    /**
     * Creates the variable (with {@code targets}, default all three, and {@code type}, default
     * {@code encrypted}) or sets the value of the existing one, replacing its targets when given
     * ({@code type} is kept). Empty when there is no such repository.
     */
    public Optional<SetResult> set(
            Caller caller,
            String projectId,
            String repositoryId,
            String key,
            String value,
            List<String> targets,
            String type) {
        return jdbi.inTransaction(h -> {
            Optional<RepositoryRow> locked = Daos.of(h, RepositoryDao.class).lock(projectId, repositoryId);
            if (locked.isEmpty()) {
                return Optional.<SetResult>empty();
            }
            RepositoryRow repo = locked.get();
            EnvVarDao dao = Daos.of(h, EnvVarDao.class);
            Map<String, String> values = new TreeMap<>(current(h, repo));
            values.put(key, value);
            OffsetDateTime now = Times.now();
            Optional<EnvVarRow> existing = dao.find(repo.id(), key);
            String label = repo.fullName() + ":" + key;
            SetResult result;
            if (existing.isEmpty()) {
                EnvVarRow row = new EnvVarRow(
                        ids.next("renv"),
                        repo.id(),
                        key,
                        (targets == null ? ALL_TARGETS : targets).toArray(new String[0]),
                        type == null ? "encrypted" : type,
                        now,
                        now);
                dao.insert(row);
                audit.created(h, caller, projectId, "repository_env_var", row.id(), label, summary(row));
                result = new SetResult("created", key, 1);
            } else {
                EnvVarRow before = existing.get();
                EnvVarRow after = new EnvVarRow(
                        before.id(),
                        before.repositoryId(),
                        before.key(),
                        targets == null ? before.targets() : targets.toArray(new String[0]),
                        before.type(),
                        before.createdAt(),
                        now);
                dao.update(after);
                Map<String, Object> a = summary(after);
                a.put("value", "changed"); // an update always writes the value; the audit says so, never what it is
                audit.updated(h, caller, projectId, "repository_env_var", before.id(), label, summary(before), a);
                result = new SetResult("updated", key, 1);
            }
            replaceSecret(h, caller, repo, values);
            return Optional.of(result);
        });
    }

    /**
     * Deletes the variable: the count of entries deleted (0 when it does not exist), or empty when
     * there is no such repository.
     */
    public Optional<Integer> delete(Caller caller, String projectId, String repositoryId, String key) {
        return jdbi.inTransaction(h -> {
            Optional<RepositoryRow> locked = Daos.of(h, RepositoryDao.class).lock(projectId, repositoryId);
            if (locked.isEmpty()) {
                return Optional.<Integer>empty();
            }
            RepositoryRow repo = locked.get();
            EnvVarDao dao = Daos.of(h, EnvVarDao.class);
            Optional<EnvVarRow> existing = dao.find(repo.id(), key);
            if (existing.isEmpty()) {
                return Optional.of(0);
            }
            dao.delete(existing.get().id());
            Map<String, String> values = new TreeMap<>(current(h, repo));
            values.remove(key);
            replaceSecret(h, caller, repo, values);
            audit.deleted(
                    h,
                    caller,
                    projectId,
                    "repository_env_var",
                    existing.get().id(),
                    repo.fullName() + ":" + key,
                    summary(existing.get()));
            return Optional.of(1);
        });
    }

    /**
     * The values of a repository's variables, name to value, inside the caller's transaction: what
     * a sandbox or run of the repository is given. Empty when it has none.
     */
    public Map<String, String> values(Handle h, String repositoryId) {
        return Daos.of(h, EnvVarDao.class)
                .secretOf(repositoryId)
                .flatMap(secretId -> store.values(h, secretId, 1))
                .orElse(Map.of());
    }

    private Map<String, String> current(Handle h, RepositoryRow repo) {
        return repo.envSecretId() == null
                ? Map.of()
                : store.values(h, repo.envSecretId(), 1).orElse(Map.of());
    }

    /** Replaces the repository's secret with one holding exactly {@code values} (none when empty). */
    private void replaceSecret(Handle h, Caller caller, RepositoryRow repo, Map<String, String> values) {
        EnvVarDao dao = Daos.of(h, EnvVarDao.class);
        if (repo.envSecretId() != null) {
            dao.setSecret(repo.id(), null);
            Daos.of(h, SecretDao.class).delete(repo.envSecretId());
        }
        if (!values.isEmpty()) {
            SecretStore.Written w = store.create(
                    h,
                    caller.orgId(),
                    repo.projectId(),
                    SecretStore.ownedName("repository", repo.id()),
                    "repository",
                    null,
                    values,
                    caller.principalId());
            dao.setSecret(repo.id(), w.secret().id());
        }
    }

    private static Map<String, Object> summary(EnvVarRow row) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("key", row.key());
        m.put("targets", Arrays.asList(row.targets()));
        m.put("type", row.type());
        return m;
    }

    private static EnvVar view(EnvVarRow row) {
        return new EnvVar(row.id(), row.key(), Arrays.asList(row.targets()), row.type(), row.updatedAt());
    }
}
