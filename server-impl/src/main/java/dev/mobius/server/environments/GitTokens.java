package dev.mobius.server.environments;

import dev.mobius.server.secrets.SecretStore;
import java.util.Map;
import java.util.Optional;
import org.jdbi.v3.core.Handle;

/**
 * Where git credentials for environments come from: the project secret {@value #SECRET}
 * ({@code token}; {@code username} default {@code x-access-token}; {@code host} default
 * {@code github.com}). Without it there is no token source and the route answers 409.
 */
final class GitTokens {
    static final String SECRET = "git-credentials";

    record Token(String host, String username, String token) {}

    private final SecretStore store;

    GitTokens(SecretStore store) {
        this.store = store;
    }

    Optional<Token> token(Handle h, String projectId) {
        return h.createQuery("SELECT id, latest_version FROM secrets WHERE project_id = :p AND name = :n "
                        + "AND owner_kind = 'project'")
                .bind("p", projectId)
                .bind("n", SECRET)
                .map((rs, ctx) -> Map.entry(rs.getString(1), rs.getInt(2)))
                .findOne()
                .flatMap(s -> store.values(h, s.getKey(), s.getValue()))
                .filter(v -> v.get("token") != null && !v.get("token").isBlank())
                .map(v -> new Token(
                        v.getOrDefault("host", "github.com"),
                        v.getOrDefault("username", "x-access-token"),
                        v.get("token")));
    }
}
