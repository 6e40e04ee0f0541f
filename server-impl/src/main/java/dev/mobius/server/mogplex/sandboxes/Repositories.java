package dev.mobius.server.mogplex.sandboxes;

import dev.mobius.server.ids.Ids;
import java.util.Optional;
import org.jdbi.v3.core.Handle;

/** The repositories of a user's project, as sandboxes and runs read them (SQL only). */
public final class Repositories {
    private Repositories() {}

    /** A registered repository: what a sandbox checks out. */
    public record Repo(
            String id, String projectId, String fullName, String gitUrl, String defaultBranch, String rootDirectory) {}

    /**
     * The repository of the project whose id carries {@code uuid}, or empty (a malformed UUID is
     * "not found" too). Matched on the typed id's encoded UUID, whatever its prefix.
     */
    public static Optional<Repo> find(Handle h, String projectId, String uuid) {
        String typed = Ids.typed("x", uuid);
        if (typed == null) {
            return Optional.empty();
        }
        return h.createQuery("SELECT id, project_id, full_name, git_url, default_branch, root_directory "
                        + "FROM repositories WHERE project_id = :p AND right(id, 27) = :suffix")
                .bind("p", projectId)
                .bind("suffix", typed.substring(1))
                .map((rs, ctx) -> new Repo(
                        rs.getString(1),
                        rs.getString(2),
                        rs.getString(3),
                        rs.getString(4),
                        rs.getString(5),
                        rs.getString(6)))
                .findOne();
    }

    public static Optional<Repo> byId(Handle h, String id) {
        return h.createQuery("SELECT id, project_id, full_name, git_url, default_branch, root_directory "
                        + "FROM repositories WHERE id = :id")
                .bind("id", id)
                .map((rs, ctx) -> new Repo(
                        rs.getString(1),
                        rs.getString(2),
                        rs.getString(3),
                        rs.getString(4),
                        rs.getString(5),
                        rs.getString(6)))
                .findOne();
    }
}
