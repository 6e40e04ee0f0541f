package dev.mobius.server.audit;

import dev.mobius.server.db.SqlWhere;
import java.util.List;
import org.jdbi.v3.sqlobject.SqlObject;
import org.jdbi.v3.sqlobject.customizer.BindMethods;
import org.jdbi.v3.sqlobject.statement.SqlUpdate;

public interface AuditDao extends SqlObject {
    String COLUMNS = "id, org_id, project_id, principal_id, actor_name, credential_id, credential_name, action, "
            + "resource_type, resource_id, resource_name, changes::text AS changes, ip_address, user_agent, request_id, created_at";

    @SqlUpdate(
            "INSERT INTO audit_logs (id, org_id, project_id, principal_id, actor_name, credential_id, credential_name, "
                    + "action, resource_type, resource_id, resource_name, changes, ip_address, user_agent, request_id, created_at) "
                    + "VALUES (:id, :orgId, :projectId, :principalId, :actorName, :credentialId, :credentialName, :action, "
                    + ":resourceType, :resourceId, :resourceName, CAST(:changes AS jsonb), :ipAddress, :userAgent, :requestId, :createdAt)")
    void insert(@BindMethods AuditRow row);

    /** Newest first: keyset on the time-ordered id, descending. */
    default List<AuditRow> list(SqlWhere where, int limit) {
        return where.list(
                getHandle(), "SELECT " + COLUMNS + " FROM audit_logs", "ORDER BY id DESC", limit, AuditRow.class);
    }
}
