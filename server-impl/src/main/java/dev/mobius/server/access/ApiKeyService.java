package dev.mobius.server.access;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mobius.api.model.APIKey;
import dev.mobius.api.model.APIKeyCreateResult;
import dev.mobius.api.model.APIKeyListResponse;
import dev.mobius.api.model.CreateAPIKeyRequest;
import dev.mobius.server.audit.AuditTrail;
import dev.mobius.server.db.Daos;
import dev.mobius.server.db.SqlWhere;
import dev.mobius.server.http.ApiException;
import dev.mobius.server.http.Cursors;
import dev.mobius.server.http.PageRequest;
import dev.mobius.server.http.Tags;
import dev.mobius.server.http.Validator;
import dev.mobius.server.ids.Ids;
import dev.mobius.server.json.Json;
import dev.mobius.server.tenancy.Caller;
import dev.mobius.server.tenancy.ProjectAccess;
import dev.mobius.server.tenancy.ProjectRow;
import dev.mobius.server.time.Times;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import org.jdbi.v3.core.Jdbi;

/** Project API keys: minted for a principal of the project, shown once, revoked for good. */
public final class ApiKeyService {
    private final Jdbi jdbi;
    private final Ids ids;
    private final ObjectMapper mapper;
    private final AuditTrail audit;
    private final Cursors cursors;
    private final ApiKeySecrets secrets;

    public ApiKeyService(
            Jdbi jdbi, Ids ids, ObjectMapper mapper, AuditTrail audit, Cursors cursors, ApiKeySecrets secrets) {
        this.jdbi = jdbi;
        this.ids = ids;
        this.mapper = mapper;
        this.audit = audit;
        this.cursors = cursors;
        this.secrets = secrets;
    }

    public APIKeyCreateResult create(Caller caller, String projectRef, CreateAPIKeyRequest request) {
        Validator v = new Validator();
        String name = request.getName() == null ? null : request.getName().trim();
        v.require(name != null && !name.isEmpty(), "name", name == null ? "is required" : "must not be blank");
        if (name != null) {
            v.require(name.length() <= 128, "name", "at most 128 characters");
        }
        v.require(
                request.getPrincipalId() != null && !request.getPrincipalId().isEmpty(), "principal_id", "is required");
        if (request.getExpiresAt() != null) {
            v.require(request.getExpiresAt().isAfter(OffsetDateTime.now()), "expires_at", "must be in the future");
        }
        v.throwIfInvalid();
        return jdbi.inTransaction(h -> {
            ProjectRow project = ProjectAccess.require(h, caller, projectRef);
            PrincipalRow principal = Daos.of(h, PrincipalDao.class)
                    .findInProject(project.id(), request.getPrincipalId())
                    .orElseThrow(
                            () -> ApiException.notFound("principal \"" + request.getPrincipalId() + "\" not found"));
            if (!"active".equals(principal.state())) {
                throw ApiException.validation(
                        "principal_id",
                        "the principal is " + principal.state() + "; keys can only be minted for active principals");
            }
            String secret = secrets.newSecret();
            OffsetDateTime now = Times.now();
            ApiKeyRow row = new ApiKeyRow(
                    ids.next("key"),
                    caller.orgId(),
                    project.id(),
                    principal.id(),
                    "project",
                    name,
                    ApiKeySecrets.displayPrefix(secret),
                    request.getExpiresAt() == null
                            ? null
                            : request.getExpiresAt().withOffsetSameInstant(ZoneOffset.UTC),
                    null,
                    null,
                    Json.write(mapper, request.getTags() == null ? Map.of() : request.getTags()),
                    now,
                    now);
            Daos.of(h, ApiKeyDao.class).insert(row, ApiKeySecrets.sha256(secret));
            audit.created(h, caller, project.id(), "api_key", row.id(), row.name(), summary(row));
            APIKey view = view(row);
            // Issued already suffixed, so SDKs infer the project from the key alone.
            return new APIKeyCreateResult()
                    .id(view.getId())
                    .name(view.getName())
                    .keyPrefix(view.getKeyPrefix())
                    .projectId(view.getProjectId())
                    .principalId(view.getPrincipalId())
                    .expiresAt(view.getExpiresAt())
                    .tags(view.getTags())
                    .createdAt(view.getCreatedAt())
                    .updatedAt(view.getUpdatedAt())
                    .key(secret + "." + project.handle());
        });
    }

    public APIKeyListResponse list(
            Caller caller, String projectRef, Integer limit, String cursor, List<String> tagFilters) {
        List<Tags.Filter> filters = Tags.parseFilters(tagFilters);
        return jdbi.withHandle(h -> {
            ProjectRow project = ProjectAccess.require(h, caller, projectRef);
            String scope = "api-keys:" + project.id();
            PageRequest page = PageRequest.of(limit, cursor, scope, cursors);
            SqlWhere where =
                    new SqlWhere().and("project_id = :p", "p", project.id()).and("revoked_at IS NULL");
            where.andIf(page.afterId(), "id > :after", "after");
            Tags.apply(filters, "tags", where);
            PageRequest.Page<APIKey> result = page.page(
                    Daos.of(h, ApiKeyDao.class).list(where, page.fetchSize()),
                    ApiKeyRow::id,
                    this::view,
                    scope,
                    cursors);
            return new APIKeyListResponse()
                    .items(result.items())
                    .hasMore(result.hasMore())
                    .nextCursor(result.nextCursor());
        });
    }

    public APIKey get(Caller caller, String projectRef, String id) {
        return jdbi.withHandle(h -> view(find(h, caller, projectRef, id)));
    }

    public void revoke(Caller caller, String projectRef, String id) {
        jdbi.useTransaction(h -> {
            ApiKeyRow row = find(h, caller, projectRef, id);
            Daos.of(h, ApiKeyDao.class).revoke(row.id(), Times.now());
            audit.deleted(h, caller, row.projectId(), "api_key", row.id(), row.name(), summary(row));
        });
    }

    private ApiKeyRow find(org.jdbi.v3.core.Handle h, Caller caller, String projectRef, String id) {
        ProjectRow project = ProjectAccess.require(h, caller, projectRef);
        return Daos.of(h, ApiKeyDao.class)
                .findActive(project.id(), id)
                .orElseThrow(() -> ApiException.notFound("API key \"" + id + "\" not found"));
    }

    private APIKey view(ApiKeyRow row) {
        return new APIKey()
                .id(row.id())
                .name(row.name())
                .keyPrefix(row.keyPrefix())
                .projectId(row.projectId())
                .principalId(row.principalId())
                .expiresAt(row.expiresAt())
                .lastUsedAt(row.lastUsedAt())
                .tags(Json.readStringMap(mapper, row.tags()))
                .createdAt(row.createdAt())
                .updatedAt(row.updatedAt());
    }

    private Map<String, Object> summary(ApiKeyRow row) {
        return AuditTrail.summary(
                "name",
                row.name(),
                "principal_id",
                row.principalId(),
                "expires_at",
                row.expiresAt() == null ? null : row.expiresAt().toInstant().toString(),
                "tags",
                Json.readStringMap(mapper, row.tags()));
    }
}
