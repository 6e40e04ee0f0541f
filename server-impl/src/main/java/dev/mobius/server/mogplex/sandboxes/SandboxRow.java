package dev.mobius.server.mogplex.sandboxes;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.OffsetDateTime;
import java.util.Set;

/** One row of {@code mogplex_sandboxes}. */
public record SandboxRow(
        String id,
        String orgId,
        String projectId,
        String userId,
        String repositoryId,
        String environmentId,
        String leaseId,
        String checkoutJobId,
        String status,
        String baseBranch,
        String workingBranch,
        boolean createBranch,
        String rootDirectory,
        String directory,
        String error,
        String stopReason,
        String installLog,
        OffsetDateTime createdAt,
        OffsetDateTime updatedAt,
        OffsetDateTime lastActiveAt) {

    /** The statuses of a sandbox that still holds its environment. */
    public static final Set<String> ACTIVE = Set.of("creating", "installing", "running", "pausing");

    static final String COLUMNS = "id, org_id, project_id, user_id, repository_id, environment_id, lease_id, "
            + "checkout_job_id, status, base_branch, working_branch, create_branch, root_directory, directory, error, "
            + "stop_reason, install_log, created_at, updated_at, last_active_at";

    static SandboxRow read(ResultSet rs) throws SQLException {
        return new SandboxRow(
                rs.getString("id"),
                rs.getString("org_id"),
                rs.getString("project_id"),
                rs.getString("user_id"),
                rs.getString("repository_id"),
                rs.getString("environment_id"),
                rs.getString("lease_id"),
                rs.getString("checkout_job_id"),
                rs.getString("status"),
                rs.getString("base_branch"),
                rs.getString("working_branch"),
                rs.getBoolean("create_branch"),
                rs.getString("root_directory"),
                rs.getString("directory"),
                rs.getString("error"),
                rs.getString("stop_reason"),
                rs.getString("install_log"),
                rs.getObject("created_at", OffsetDateTime.class),
                rs.getObject("updated_at", OffsetDateTime.class),
                rs.getObject("last_active_at", OffsetDateTime.class));
    }

    public boolean active() {
        return ACTIVE.contains(status);
    }

    /** Where the checkout lives on the worker, relative to its working directory; with the root directory. */
    public String workDirectory() {
        return rootDirectory == null ? directory : directory + "/" + rootDirectory;
    }
}
