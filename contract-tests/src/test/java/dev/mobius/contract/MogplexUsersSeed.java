package dev.mobius.contract;

import dev.mobius.server.MobiusServer;
import dev.mobius.server.ids.Ids;
import dev.mobius.server.users.UserRow;
import dev.mobius.server.users.UserService;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The tokens the Mogplex examples authenticate with besides the first user's: a read-only and a
 * write-only token of that user, and a token of a second user (for isolation examples). Tokens are
 * issued by the operator's side of the server; no Mogplex operation mints them.
 */
final class MogplexUsersSeed {
    private MogplexUsersSeed() {}

    /** Named tokens for {@code x-replay-auth: token:<name>}. */
    static Map<String, String> seed(MobiusServer server) {
        UserService users = new UserService(server.database().jdbi(), new Ids());
        UserRow admin = users.findByUsername("admin").orElseThrow();
        UserRow other = users.create("other", "other@example.com", "Other User");
        Map<String, String> tokens = new LinkedHashMap<>();
        tokens.put(
                "read-only",
                users.issueToken(admin.id(), "read only", Set.of("read"), null).token());
        tokens.put(
                "write-only",
                users.issueToken(admin.id(), "write only", Set.of("write"), null)
                        .token());
        tokens.put(
                "other-user",
                users.issueToken(other.id(), "other", Set.of("read", "write"), null)
                        .token());
        return tokens;
    }
}
