package dev.mobius.server.repositories;

import dev.mobius.api.model.CreateRepositoryRequest;
import dev.mobius.api.model.Repository;
import dev.mobius.api.model.RepositoryListResponse;
import dev.mobius.api.model.UpdateRepositoryRequest;
import dev.mobius.server.audit.AuditTrail;
import dev.mobius.server.db.Daos;
import dev.mobius.server.db.SqlWhere;
import dev.mobius.server.http.ApiException;
import dev.mobius.server.http.Cursors;
import dev.mobius.server.http.PageRequest;
import dev.mobius.server.http.Validator;
import dev.mobius.server.ids.Ids;
import dev.mobius.server.tenancy.Caller;
import dev.mobius.server.tenancy.ProjectAccess;
import dev.mobius.server.tenancy.ProjectRow;
import dev.mobius.server.time.Times;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;

/**
 * The repositories of a project: registering, listing, changing and removing them, and the
 * lookups other features make (the visible repositories of a project, one by id).
 */
public final class RepositoryService {
    private final Jdbi jdbi;
    private final Ids ids;
    private final AuditTrail audit;
    private final Cursors cursors;

    public RepositoryService(Jdbi jdbi, Ids ids, AuditTrail audit, Cursors cursors) {
        this.jdbi = jdbi;
        this.ids = ids;
        this.audit = audit;
        this.cursors = cursors;
    }

    // ---- request rules (checked with the schema's, in one 400; fields in path order) -------------

    public static void check(CreateRepositoryRequest body, Validator v) {
        if (body.getDefaultBranch() != null && !RepositoryRules.branchOk(body.getDefaultBranch())) {
            v.add("default_branch", RepositoryRules.BRANCH_RULE);
        }
        if (body.getFullName() != null && !RepositoryRules.fullNameOk(body.getFullName())) {
            v.add("full_name", RepositoryRules.FULL_NAME_RULE);
        }
        if (body.getGitUrl() != null && !RepositoryRules.gitUrlOk(body.getGitUrl())) {
            v.add("git_url", RepositoryRules.GIT_URL_RULE);
        }
        if (body.getRootDirectory() != null && RepositoryRules.normalizeRoot(body.getRootDirectory()) == null) {
            v.add("root_directory", RepositoryRules.ROOT_RULE);
        }
    }

    public static void check(UpdateRepositoryRequest body, Validator v) {
        String branch = body.getDefaultBranch();
        if (branch != null && !branch.isEmpty() && !RepositoryRules.branchOk(branch)) {
            v.add("default_branch", RepositoryRules.BRANCH_RULE);
        }
        if (body.getFullName() != null && !RepositoryRules.fullNameOk(body.getFullName())) {
            v.add("full_name", RepositoryRules.FULL_NAME_RULE);
        }
        if (body.getGitUrl() != null && !RepositoryRules.gitUrlOk(body.getGitUrl())) {
            v.add("git_url", RepositoryRules.GIT_URL_RULE);
        }
        Long installation = body.getInstallationId();
        if (installation != null && installation != UpdateRepositoryBody.CLEARED && installation < 1) {
            v.add("installation_id", "must be greater than or equal to 1");
        }
        if (body.getRootDirectory() != null && RepositoryRules.normalizeRoot(body.getRootDirectory()) == null) {
            v.add("root_directory", RepositoryRules.ROOT_RULE);
        }
    }

    // ---- routes ---------------------------------------------------------------------------------

    public RepositoryListResponse list(Caller caller, String projectRef, String cursor, Integer limit) {
        return jdbi.withHandle(h -> {
            ProjectRow project = ProjectAccess.require(h, caller, projectRef);
            String scope = "repositories:" + project.id();
            PageRequest page = PageRequest.of(limit, cursor, scope, cursors);
            SqlWhere where = new SqlWhere()
                    .and("project_id = :p", "p", project.id())
                    .andIf(page.afterId(), "id > :after", "after");
            PageRequest.Page<Repository> result = page.page(
                    Daos.of(h, RepositoryDao.class).list(where, page.fetchSize()),
                    RepositoryRow::id,
                    RepositoryService::view,
                    scope,
                    cursors);
            return new RepositoryListResponse()
                    .items(result.items())
                    .hasMore(result.hasMore())
                    .nextCursor(result.nextCursor());
        });
    }

    public Repository create(Caller caller, String projectRef, CreateRepositoryRequest request) {
        return jdbi.inTransaction(h -> {
            ProjectRow project = ProjectAccess.require(h, caller, projectRef);
            RepositoryDao dao = Daos.of(h, RepositoryDao.class);
            if (dao.nameTaken(project.id(), request.getFullName(), "")) {
                throw nameTaken(request.getFullName());
            }
            OffsetDateTime now = Times.now();
            RepositoryRow row = new RepositoryRow(
                    ids.next("repo"),
                    project.id(),
                    request.getFullName(),
                    request.getGitUrl(),
                    request.getDefaultBranch(),
                    emptyToNull(RepositoryRules.normalizeRoot(request.getRootDirectory())),
                    request.getInstallationId(),
                    Boolean.TRUE.equals(request.getHidden()),
                    null,
                    now,
                    now);
            dao.insert(row);
            audit.created(h, caller, project.id(), "repository", row.id(), row.fullName(), summary(row));
            return view(row);
        });
    }

    public Repository get(Caller caller, String projectRef, String id) {
        return jdbi.withHandle(h -> {
            ProjectRow project = ProjectAccess.require(h, caller, projectRef);
            return view(Daos.of(h, RepositoryDao.class).find(project.id(), id).orElseThrow(() -> notFound(id)));
        });
    }

    public Repository update(Caller caller, String projectRef, String id, UpdateRepositoryRequest request) {
        return jdbi.inTransaction(h -> {
            ProjectRow project = ProjectAccess.require(h, caller, projectRef);
            RepositoryDao dao = Daos.of(h, RepositoryDao.class);
            RepositoryRow row = dao.lock(project.id(), id).orElseThrow(() -> notFound(id));
            String fullName = request.getFullName() == null ? row.fullName() : request.getFullName();
            if (!fullName.equals(row.fullName()) && dao.nameTaken(project.id(), fullName, row.id())) {
                throw nameTaken(fullName);
            }
            Long installation = request.getInstallationId() == null
                    ? row.installationId()
                    : request.getInstallationId() == UpdateRepositoryBody.CLEARED ? null : request.getInstallationId();
            RepositoryRow after = new RepositoryRow(
                    row.id(),
                    row.projectId(),
                    fullName,
                    request.getGitUrl() == null ? row.gitUrl() : request.getGitUrl(),
                    request.getDefaultBranch() == null ? row.defaultBranch() : emptyToNull(request.getDefaultBranch()),
                    request.getRootDirectory() == null
                            ? row.rootDirectory()
                            : emptyToNull(RepositoryRules.normalizeRoot(request.getRootDirectory())),
                    installation,
                    request.getHidden() == null ? row.hidden() : request.getHidden(),
                    row.envSecretId(),
                    row.createdAt(),
                    Times.now());
            Map<String, Object> before = summary(row);
            Map<String, Object> changed = summary(after);
            if (before.equals(changed)) {
                return view(row);
            }
            dao.update(after);
            audit.updated(h, caller, project.id(), "repository", row.id(), after.fullName(), before, changed);
            return view(after);
        });
    }

    public void delete(Caller caller, String projectRef, String id) {
        jdbi.useTransaction(h -> {
            ProjectRow project = ProjectAccess.require(h, caller, projectRef);
            RepositoryDao dao = Daos.of(h, RepositoryDao.class);
            RepositoryRow row = dao.lock(project.id(), id).orElseThrow(() -> notFound(id));
            // Its environment variables go by cascade, their secret by the table's trigger.
            dao.delete(row.id());
            audit.deleted(h, caller, project.id(), "repository", row.id(), row.fullName(), summary(row));
        });
    }

    // ---- lookups for other features ------------------------------------------------------------

    /**
     * The project's repositories that are not hidden, by full name, at most {@code limit}; with
     * {@code contains}, only those whose full name contains it, ignoring case ({@code %} and
     * {@code _} match themselves).
     */
    public List<RepositoryRow> visible(String projectId, String contains, int limit) {
        String pattern = contains == null ? null : "%" + escapeLike(contains) + "%";
        return jdbi.withHandle(h -> Daos.of(h, RepositoryDao.class).visible(projectId, pattern, limit));
    }

    public Optional<RepositoryRow> find(String projectId, String id) {
        return jdbi.withHandle(h -> Daos.of(h, RepositoryDao.class).find(projectId, id));
    }

    public static Optional<RepositoryRow> find(Handle h, String projectId, String id) {
        return Daos.of(h, RepositoryDao.class).find(projectId, id);
    }

    static String escapeLike(String s) {
        return s.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_");
    }

    // ---- helpers --------------------------------------------------------------------------------

    static ApiException notFound(String id) {
        return ApiException.notFound("repository \"" + id + "\" not found");
    }

    private static ApiException nameTaken(String fullName) {
        return ApiException.conflict(
                "repository_name_taken",
                "a repository named \"" + fullName + "\" already exists",
                Map.of("full_name", fullName));
    }

    private static String emptyToNull(String s) {
        return s == null || s.isEmpty() ? null : s;
    }

    private static Map<String, Object> summary(RepositoryRow row) {
        return AuditTrail.summary(
                "full_name", row.fullName(),
                "git_url", row.gitUrl(),
                "default_branch", row.defaultBranch(),
                "root_directory", row.rootDirectory(),
                "installation_id", row.installationId(),
                "hidden", row.hidden());
    }

    public static Repository view(RepositoryRow row) {
        return new Repository()
                .id(row.id())
                .fullName(row.fullName())
                .gitUrl(row.gitUrl())
                .defaultBranch(row.defaultBranch())
                .rootDirectory(row.rootDirectory())
                .installationId(row.installationId())
                .hidden(row.hidden())
                .createdAt(row.createdAt())
                .updatedAt(row.updatedAt());
    }
}
