package dev.mobius.server.users;

import dev.mobius.server.db.DirectDatabase;
import dev.mobius.server.ids.Ids;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * {@code mobius-server add-user <username> [--email E] [--name N] [--scopes read,write]}: the
 * operator's way to add a person, with a personal project and a first token, printed once. Works
 * on a stopped server (embedded database) or beside running ones (external database). Adding a
 * token to an existing user works the same way ({@code --token-only}).
 */
public final class AddUserCommand {
    private AddUserCommand() {}

    public record Request(String username, String email, String name, Set<String> scopes, boolean tokenOnly) {}

    public static Request parse(List<String> args) {
        if (args.isEmpty() || args.get(0).startsWith("--")) {
            throw new IllegalArgumentException(
                    "usage: mobius-server add-user <username> [--email E] [--name N] [--scopes read,write] [--token-only]");
        }
        String email = null;
        String name = null;
        Set<String> scopes = new LinkedHashSet<>(List.of("read", "write"));
        boolean tokenOnly = false;
        for (int i = 1; i < args.size(); i++) {
            String arg = args.get(i);
            switch (arg) {
                case "--email" -> email = args.get(++i);
                case "--name" -> name = args.get(++i);
                case "--scopes" ->
                    scopes = new LinkedHashSet<>(List.of(args.get(++i).split(",")));
                case "--token-only" -> tokenOnly = true;
                default -> throw new IllegalArgumentException("unknown option " + arg);
            }
        }
        if (!UserService.SCOPES.containsAll(scopes) || scopes.isEmpty()) {
            throw new IllegalArgumentException("--scopes takes read, write or read,write");
        }
        return new Request(args.get(0), email, name, Set.copyOf(scopes), tokenOnly);
    }

    /** @return the new token */
    public static String run(String databaseUrl, Path dataDir, Request request) throws IOException {
        try (DirectDatabase db = DirectDatabase.open(databaseUrl, dataDir)) {
            UserService users = new UserService(db.jdbi(), new Ids());
            UserRow user = request.tokenOnly()
                    ? users.findByUsername(request.username())
                            .orElseThrow(() -> new IllegalArgumentException("no user " + request.username()))
                    : users.create(request.username(), request.email(), request.name());
            return users.issueToken(user.id(), "added by the operator", request.scopes(), null)
                    .token();
        }
    }
}
