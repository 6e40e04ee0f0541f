package dev.mobius.server.audit;

import dev.mobius.api.AuditLogsApi;
import dev.mobius.server.tenancy.CallerContext;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.SecurityContext;
import java.time.OffsetDateTime;

/** HTTP face of {@link AuditLogService}. */
// Jersey reads the class-level @Path from the class itself, not from the generated interface;
// ResourcePathsTest keeps this copy equal to it.
@jakarta.ws.rs.Path("")
public final class AuditLogsResource implements AuditLogsApi {
    private final AuditLogService auditLogs;

    @Context
    private SecurityContext security;

    public AuditLogsResource(AuditLogService auditLogs) {
        this.auditLogs = auditLogs;
    }

    @Override
    public Response listOrgAuditLogs(
            String resourceType,
            String projectId,
            String resourceId,
            String principalId,
            String action,
            OffsetDateTime createdAfter,
            OffsetDateTime createdBefore,
            String cursor,
            Integer limit) {
        return Response.ok(auditLogs.listOrg(
                        CallerContext.of(security),
                        projectId,
                        new AuditLogService.Filter(
                                resourceType, resourceId, principalId, action, createdAfter, createdBefore),
                        limit,
                        cursor))
                .build();
    }

    @Override
    public Response listAuditLogs(
            String project,
            String resourceType,
            String resourceId,
            String principalId,
            String action,
            OffsetDateTime createdAfter,
            OffsetDateTime createdBefore,
            String cursor,
            Integer limit) {
        return Response.ok(auditLogs.listProject(
                        CallerContext.of(security),
                        project,
                        new AuditLogService.Filter(
                                resourceType, resourceId, principalId, action, createdAfter, createdBefore),
                        limit,
                        cursor))
                .build();
    }
}
