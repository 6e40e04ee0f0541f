package dev.mobius.server.system;

import dev.mobius.server.access.ApiKeyDao;
import dev.mobius.server.access.ApiKeyRow;
import dev.mobius.server.access.ApiKeySecrets;
import dev.mobius.server.access.PrincipalDao;
import dev.mobius.server.access.PrincipalRow;
import dev.mobius.server.access.RoleDao;
import dev.mobius.server.db.Daos;
import dev.mobius.server.ids.Ids;
import dev.mobius.server.projects.MemberDao;
import dev.mobius.server.tenancy.ProjectDao;
import dev.mobius.server.tenancy.ProjectRow;
import dev.mobius.server.time.Times;
import dev.mobius.server.users.UserRow;
import dev.mobius.server.users.UserService;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.OffsetDateTime;
import java.util.Optional;
import java.util.Set;
import org.jdbi.v3.core.Jdbi;

/**
 * First start against an empty database: one organization, the {@code default} project, a
 * {@code bootstrap} service principal holding the Owner role, and an organization API key for
 * it. Runs under a transaction-scoped advisory lock, so nodes starting together create one set.
 */
public final class Bootstrap {
    public static final String KEY_FILE = "bootstrap-api-key";
    public static final String TOKEN_FILE = "bootstrap-mogplex-token";

    private Bootstrap() {}

    /** @return the raw key when this call created the installation, empty when it already existed */
    public static Optional<String> run(Jdbi jdbi, Ids ids, ApiKeySecrets secrets, String requestedKey) {
        if (requestedKey != null && !ApiKeySecrets.isWellFormedSecret(requestedKey)) {
            throw new IllegalArgumentException(
                    "MOBIUS_BOOTSTRAP_API_KEY must look like mbx_<at least 16 letters, digits, - or _>, with no project suffix");
        }
        return jdbi.inTransaction(h -> {
            h.execute("SELECT pg_advisory_xact_lock(hashtext('mobius.bootstrap'))");
            if (h.createQuery("SELECT count(*) FROM organizations")
                            .mapTo(Integer.class)
                            .one()
                    > 0) {
                return Optional.<String>empty();
            }
            OffsetDateTime now = Times.now();
            String orgId = ids.next("org");
            h.createUpdate("INSERT INTO organizations (id, name, created_at) VALUES (:id, 'Default organization', :at)")
                    .bind("id", orgId)
                    .bind("at", now)
                    .execute();
            String projectId = ids.next("proj");
            String principalId = ids.next("prin");
            Daos.of(h, ProjectDao.class)
                    .insert(new ProjectRow(
                            projectId,
                            orgId,
                            "Default",
                            "default",
                            null,
                            "org_open",
                            principalId,
                            null,
                            null,
                            "{}",
                            now,
                            now));
            Daos.of(h, PrincipalDao.class)
                    .insert(new PrincipalRow(
                            principalId,
                            orgId,
                            projectId,
                            "service",
                            "active",
                            "bootstrap",
                            "Created at first start; holds the Owner role.",
                            "svc:bootstrap",
                            null,
                            "{}",
                            "{}",
                            now,
                            now));
            Daos.of(h, RoleDao.class).assign(ids.next("ra"), principalId, RoleDao.OWNER_ROLE_ID, projectId, null, now);
            Daos.of(h, MemberDao.class).insert(ids.next("pmem"), projectId, principalId, null, now);
            String secret = requestedKey != null ? requestedKey : secrets.newSecret();
            Daos.of(h, ApiKeyDao.class)
                    .insert(
                            new ApiKeyRow(
                                    ids.next("key"),
                                    orgId,
                                    projectId,
                                    principalId,
                                    "org",
                                    "bootstrap",
                                    ApiKeySecrets.displayPrefix(secret),
                                    null,
                                    null,
                                    null,
                                    "{}",
                                    now,
                                    now),
                            ApiKeySecrets.sha256(secret));
            return Optional.of(secret);
        });
    }

    /**
     * The first user, {@code admin}, and its first personal access token (read and write), made when
     * the installation has no user yet: at its first start, or the first start of a version that has
     * users. Under an advisory lock, like the installation itself.
     *
     * @return the token when this call created the user
     */
    public static Optional<String> firstUser(Jdbi jdbi, UserService users, String requestedToken) {
        return jdbi.inTransaction(h -> {
            h.execute("SELECT pg_advisory_xact_lock(hashtext('mobius.bootstrap.user'))");
            if (h.createQuery("SELECT count(*) FROM users").mapTo(Integer.class).one() > 0) {
                return Optional.<String>empty();
            }
            UserRow admin = users.create(h, "admin", null, "Administrator");
            return Optional.of(
                    users.issueToken(h, admin.id(), "bootstrap", Set.of("read", "write"), null, requestedToken)
                            .token());
        });
    }

    /** Saves the key for the operator, readable by the owner only. */
    public static Path writeKeyFile(Path dataDir, String key) throws IOException {
        return writeSecretFile(dataDir, KEY_FILE, key);
    }

    /** Saves the first user's token for the operator, readable by the owner only. */
    public static Path writeTokenFile(Path dataDir, String token) throws IOException {
        return writeSecretFile(dataDir, TOKEN_FILE, token);
    }

    private static Path writeSecretFile(Path dataDir, String name, String key) throws IOException {
        Files.createDirectories(dataDir);
        Path file = dataDir.resolve(name);
        Path tmp = dataDir.resolve(name + ".tmp");
        Files.deleteIfExists(tmp);
        Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(tmp, key + "\n", StandardCharsets.UTF_8);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        return file;
    }
}
