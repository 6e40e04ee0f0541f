package dev.mobius.server.audit;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mobius.api.model.AuditChanges;
import dev.mobius.api.model.AuditLogEntry;
import dev.mobius.api.model.AuditLogListResponse;
import dev.mobius.server.db.Daos;
import dev.mobius.server.db.SqlWhere;
import dev.mobius.server.http.ApiException;
import dev.mobius.server.http.Cursors;
import dev.mobius.server.http.PageRequest;
import dev.mobius.server.json.Json;
import dev.mobius.server.tenancy.Caller;
import dev.mobius.server.tenancy.ProjectAccess;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.Map;
import org.jdbi.v3.core.Jdbi;

/** Reads the audit trail, newest first, for the organization or one project. */
public final class AuditLogService {
    static final List<String> ACTIONS = List.of("create", "update", "delete", "archive", "restore");

    /** The filters both audit routes share. */
    public record Filter(
            String resourceType,
            String resourceId,
            String principalId,
            String action,
            OffsetDateTime createdAfter,
            OffsetDateTime createdBefore) {}

    private final Jdbi jdbi;
    private final ObjectMapper mapper;
    private final Cursors cursors;

    public AuditLogService(Jdbi jdbi, ObjectMapper mapper, Cursors cursors) {
        this.jdbi = jdbi;
        this.mapper = mapper;
        this.cursors = cursors;
    }

    public AuditLogListResponse listOrg(Caller caller, String projectId, Filter filter, Integer limit, String cursor) {
        ProjectAccess.requireOrgCredential(caller);
        SqlWhere where = new SqlWhere().and("org_id = :org", "org", caller.orgId());
        where.andIf(projectId, "project_id = :project", "project");
        return list(where, "audit:" + caller.orgId(), filter, limit, cursor);
    }

    public AuditLogListResponse listProject(
            Caller caller, String projectRef, Filter filter, Integer limit, String cursor) {
        String projectId = jdbi.withHandle(
                h -> ProjectAccess.require(h, caller, projectRef).id());
        return list(
                new SqlWhere().and("project_id = :project", "project", projectId),
                "audit:" + projectId,
                filter,
                limit,
                cursor);
    }

    private AuditLogListResponse list(SqlWhere where, String scope, Filter f, Integer limit, String cursor) {
        if (f.action() != null && !ACTIONS.contains(f.action())) {
            throw ApiException.invalidParameter(
                    List.of(new ApiException.FieldError("action", "must be one of " + String.join(", ", ACTIONS))));
        }
        PageRequest page = PageRequest.of(limit, cursor, scope, cursors);
        where.andIf(f.resourceType(), "resource_type = :rtype", "rtype")
                .andIf(f.resourceId(), "resource_id = :rid", "rid")
                .andIf(f.principalId(), "principal_id = :pid", "pid")
                .andIf(f.action(), "action = :action", "action")
                .andIf(f.createdAfter(), "created_at > :after_ts", "after_ts")
                .andIf(f.createdBefore(), "created_at < :before_ts", "before_ts")
                .andIf(page.afterId(), "id < :cursor_id", "cursor_id");
        List<AuditRow> rows = jdbi.withHandle(h -> Daos.of(h, AuditDao.class).list(where, page.fetchSize()));
        PageRequest.Page<AuditLogEntry> result = page.page(rows, AuditRow::id, this::view, scope, cursors);
        return new AuditLogListResponse()
                .items(result.items())
                .hasMore(result.hasMore())
                .nextCursor(result.nextCursor());
    }

    private AuditLogEntry view(AuditRow row) {
        AuditLogEntry entry = new AuditLogEntry()
                .id(row.id())
                .principalId(row.principalId())
                .projectId(row.projectId())
                .actorName(row.actorName())
                .credentialId(row.credentialId())
                .credentialName(row.credentialName())
                .action(AuditLogEntry.ActionEnum.fromValue(row.action()))
                .resourceType(row.resourceType())
                .resourceId(row.resourceId())
                .resourceName(row.resourceName())
                .ipAddress(row.ipAddress())
                .userAgent(row.userAgent())
                .createdAt(row.createdAt());
        Map<String, Object> changes = Json.readObject(mapper, row.changes());
        if (changes != null) {
            entry.changes(new AuditChanges()
                    .before(Json.asObject(changes.get("before")))
                    .after(Json.asObject(changes.get("after"))));
        }
        return entry;
    }
}
