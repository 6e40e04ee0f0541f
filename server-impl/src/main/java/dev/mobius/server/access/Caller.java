package dev.mobius.server.access;

/**
 * Who is making the current request: the principal behind the API key, and which projects that
 * key may reach. {@code pinnedProjectId} is the only project a project key (or an organization
 * key used with a project suffix) may touch; null means every project of the organization.
 */
/*
 * {@code homeProjectId} is the project the key was issued in: permissions of operations that name
 * no project (create project, organization audit log) are evaluated there.
 */
public record Caller(
        String orgId,
        String principalId,
        String principalName,
        String keyId,
        String keyName,
        String homeProjectId,
        boolean orgKey,
        String pinnedProjectId,
        String ipAddress,
        String userAgent,
        String requestId) {

    public boolean canReach(String projectId) {
        return pinnedProjectId == null || pinnedProjectId.equals(projectId);
    }
}
