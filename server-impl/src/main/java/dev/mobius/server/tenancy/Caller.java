package dev.mobius.server.tenancy;

/**
 * Who is making the current request: the principal behind the API key, and which projects that
 * key may reach. {@code pinnedProjectId} is the only project a project key (or an organization
 * key used with a project suffix) may touch; null means every project of the organization.
 */
/*
 * {@code homeProjectId} is the project the key was issued in: permissions of operations that name
 * no project (create project, organization audit log) are evaluated there. {@code project} is the
 * project the request names, once the Authorizer has found it reachable, so that the operation
 * need not look it up again; null before that, and on routes that name no project.
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
        String requestId,
        ProjectRow project) {

    public Caller(
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
        this(
                orgId,
                principalId,
                principalName,
                keyId,
                keyName,
                homeProjectId,
                orgKey,
                pinnedProjectId,
                ipAddress,
                userAgent,
                requestId,
                null);
    }

    public boolean canReach(String projectId) {
        return pinnedProjectId == null || pinnedProjectId.equals(projectId);
    }

    /** The same caller, knowing the project its request is about (resolved and checked by the access filter, Authorizer). */
    public Caller withProject(ProjectRow resolved) {
        return new Caller(
                orgId,
                principalId,
                principalName,
                keyId,
                keyName,
                homeProjectId,
                orgKey,
                pinnedProjectId,
                ipAddress,
                userAgent,
                requestId,
                resolved);
    }
}
