package dev.mobius.server.control.sessions;

import dev.mobius.server.db.DirectDatabase;
import dev.mobius.server.ids.Ids;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.file.Path;

/**
 * {@code mobius-server set-password <username>}: the operator sets (or replaces) the password a
 * user signs in with at {@code POST /api/auth/login}. The password is read from the first line of
 * stdin, never from the command line, which other processes can see.
 */
public final class SetPasswordCommand {
    private SetPasswordCommand() {}

    public static void run(String databaseUrl, Path dataDir, String username, BufferedReader stdin) throws IOException {
        String password = stdin.readLine();
        if (password == null) {
            throw new IllegalArgumentException("no password on stdin");
        }
        try (DirectDatabase db = DirectDatabase.open(databaseUrl, dataDir)) {
            new LoginService(db.jdbi(), new Passwords(), new SessionStore(db.jdbi(), new Ids()), 0, 0)
                    .setPassword(username, password);
        }
    }
}
