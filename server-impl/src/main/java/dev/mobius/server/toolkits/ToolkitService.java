package dev.mobius.server.toolkits;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mobius.api.model.Toolkit;
import dev.mobius.api.model.ToolkitActionGrant;
import dev.mobius.api.model.ToolkitListResponse;
import dev.mobius.api.model.ToolkitRequest;
import dev.mobius.server.audit.AuditTrail;
import dev.mobius.server.db.Daos;
import dev.mobius.server.http.ApiException;
import dev.mobius.server.http.Validator;
import dev.mobius.server.ids.Ids;
import dev.mobius.server.json.Json;
import dev.mobius.server.tenancy.Caller;
import dev.mobius.server.tenancy.ProjectAccess;
import dev.mobius.server.tenancy.ProjectRow;
import dev.mobius.server.time.Times;
import java.time.OffsetDateTime;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;

/**
 * Toolkits: the project's own (created, replaced, archived here) and the system's (read-only, from
 * the migrations). One transaction per command, with its audit entry.
 */
public final class ToolkitService {
    /** The values of the lists' {@code status} filter. */
    public static final List<String> LIST_STATUSES = List.of("active", "archived", "all");

    private static final String TYPE = "toolkit";

    private final Jdbi jdbi;
    private final Ids ids;
    private final ObjectMapper mapper;
    private final AuditTrail audit;
    private final Grants grants;

    public ToolkitService(Jdbi jdbi, Ids ids, ObjectMapper mapper, AuditTrail audit, Grants grants) {
        this.jdbi = jdbi;
        this.ids = ids;
        this.mapper = mapper;
        this.audit = audit;
        this.grants = grants;
    }

    public ToolkitListResponse list(Caller caller, String projectRef, Boolean includeSystem, String status) {
        String wanted = checkStatus(status);
        return jdbi.withHandle(h -> {
            ProjectRow project = ProjectAccess.require(h, caller, projectRef);
            List<Toolkit> items =
                    Daos.of(h, ToolkitDao.class)
                            .list(project.id(), includeSystem == null || includeSystem, wanted)
                            .stream()
                            .map(row -> view(row, project))
                            .toList();
            return new ToolkitListResponse().items(items);
        });
    }

    public Toolkit get(Caller caller, String projectRef, String id) {
        return jdbi.withHandle(h -> {
            ProjectRow project = ProjectAccess.require(h, caller, projectRef);
            return view(Daos.of(h, ToolkitDao.class).find(project.id(), id).orElseThrow(() -> notFound(id)), project);
        });
    }

    public Toolkit create(Caller caller, String projectRef, ToolkitRequest request) {
        return jdbi.inTransaction(h -> {
            ProjectRow project = ProjectAccess.require(h, caller, projectRef);
            Fields fields = fields(h, project, request);
            ToolkitDao dao = Daos.of(h, ToolkitDao.class);
            checkUnique(dao, project, fields, "");
            OffsetDateTime now = Times.now();
            ToolkitRow row = new ToolkitRow(
                    ids.next("tk"),
                    project.orgId(),
                    project.id(),
                    "project",
                    "active",
                    fields.name(),
                    fields.slug(),
                    fields.description(),
                    Json.write(mapper, fields.grants()),
                    caller.principalId(),
                    caller.principalId(),
                    now,
                    now);
            dao.insert(row);
            audit.created(h, caller, project.id(), TYPE, row.id(), row.name(), summary(row));
            return view(row, project);
        });
    }

    /** PUT: every field from the request; absent ones are cleared. System toolkits are read-only. */
    public Toolkit update(Caller caller, String projectRef, String id, ToolkitRequest request) {
        return jdbi.inTransaction(h -> {
            ProjectRow project = ProjectAccess.require(h, caller, projectRef);
            ToolkitDao dao = Daos.of(h, ToolkitDao.class);
            ToolkitRow row = writable(dao.lock(project.id(), id), id);
            Fields fields = fields(h, project, request);
            if (row.active()) {
                checkUnique(dao, project, fields, row.id());
            }
            ToolkitRow after = new ToolkitRow(
                    row.id(),
                    row.orgId(),
                    row.projectId(),
                    row.source(),
                    row.status(),
                    fields.name(),
                    fields.slug(),
                    fields.description(),
                    Json.write(mapper, fields.grants()),
                    row.createdBy(),
                    caller.principalId(),
                    row.createdAt(),
                    Times.now());
            Map<String, Object> before = summary(row);
            Map<String, Object> changed = summary(after);
            if (before.equals(changed)) {
                return view(row, project); // nothing to change, nothing to record
            }
            dao.update(after);
            audit.updated(h, caller, project.id(), TYPE, row.id(), after.name(), before, changed);
            return view(after, project);
        });
    }

    /**
     * Archives the toolkit unless an agent is assigned it. The row lock taken first is held until
     * commit, so an assignment (which takes FOR SHARE on the row) either committed before the count
     * below, and is counted, or waits and then finds the toolkit archived.
     */
    public void delete(Caller caller, String projectRef, String id) {
        jdbi.useTransaction(h -> {
            ProjectRow project = ProjectAccess.require(h, caller, projectRef);
            ToolkitDao dao = Daos.of(h, ToolkitDao.class);
            ToolkitRow row = writable(dao.lock(project.id(), id), id);
            if (!row.active()) {
                return;
            }
            CatalogueItems.archiveUnlessAssigned(
                    h,
                    audit,
                    caller,
                    project.id(),
                    TYPE,
                    row.id(),
                    row.name(),
                    () -> dao.assignedAgents(row.id()),
                    () -> dao.archive(row.id(), caller.principalId(), Times.now()));
        });
    }

    // ---- helpers ------------------------------------------------------------------------------

    /** The request's fields after the rules, every failure reported at once. */
    private record Fields(String name, String slug, String description, List<ToolkitActionGrant> grants) {}

    private Fields fields(Handle h, ProjectRow project, ToolkitRequest request) {
        Validator v = new Validator();
        String slug = slug(request.getName(), request.getSlug(), v);
        List<ToolkitActionGrant> checked = grants.check(h, project.id(), request.getActionGrants(), v);
        v.throwIfInvalidSorted();
        return new Fields(request.getName(), slug, request.getDescription(), checked);
    }

    /** The given slug if valid, or the name's; reports a problem to {@code v}. */
    public static String slug(String name, String given, Validator v) {
        if (given != null) {
            if (!Slugs.valid(given)) {
                v.add("slug", Slugs.RULE);
            }
            return given;
        }
        String derived = name == null ? "" : Slugs.derive(name);
        if (derived.isEmpty() && name != null) {
            v.add("name", Slugs.NOTHING_TO_DERIVE);
        }
        return derived;
    }

    private static void checkUnique(ToolkitDao dao, ProjectRow project, Fields fields, String exceptId) {
        CatalogueItems.requireUnique(
                TYPE,
                fields.name(),
                dao.nameTaken(project.id(), fields.name(), exceptId),
                fields.slug(),
                dao.slugTaken(project.id(), fields.slug(), exceptId));
    }

    private static ToolkitRow writable(java.util.Optional<ToolkitRow> found, String id) {
        ToolkitRow row = found.orElseThrow(() -> notFound(id));
        if (row.system()) {
            throw ApiException.forbidden("system_item_read_only", "system toolkit \"" + row.id() + "\" is read-only");
        }
        return row;
    }

    /** The {@code status} filter, defaulting to {@code active}; anything else is 400. */
    public static String checkStatus(String status) {
        if (status == null) {
            return "active";
        }
        if (!LIST_STATUSES.contains(status)) {
            throw ApiException.invalidParameter(List.of(
                    new ApiException.FieldError("status", "must be one of " + String.join(", ", LIST_STATUSES))));
        }
        return status;
    }

    private List<ToolkitActionGrant> grantsOf(ToolkitRow row) {
        try {
            return mapper.readValue(row.actionGrants(), new TypeReference<List<ToolkitActionGrant>>() {});
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("stored grants of " + row.id() + " are unreadable", e);
        }
    }

    public Toolkit view(ToolkitRow row, ProjectRow project) {
        return new Toolkit()
                .id(row.id())
                .orgId(project.orgId())
                .projectId(row.projectId() == null ? "" : row.projectId())
                .name(row.name())
                .slug(row.slug())
                .description(row.description())
                .source(Toolkit.SourceEnum.fromValue(row.source()))
                .status(Toolkit.StatusEnum.fromValue(row.status()))
                .actionGrants(grantsOf(row))
                .createdBy(row.createdBy())
                .updatedBy(row.updatedBy())
                .createdAt(row.createdAt())
                .updatedAt(row.updatedAt());
    }

    private Map<String, Object> summary(ToolkitRow row) {
        List<Map<String, Object>> grantList = grantsOf(row).stream()
                .map(g -> {
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("selector_type", g.getSelectorType().value());
                    m.put("selector", g.getSelector());
                    return m;
                })
                .toList();
        return AuditTrail.summary(
                "name", row.name(), "slug", row.slug(), "description", row.description(), "action_grants", grantList);
    }

    private static ApiException notFound(String id) {
        return ApiException.notFound("toolkit \"" + id + "\" not found");
    }
}
