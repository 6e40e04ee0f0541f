package dev.mobius.server.secrets;

import dev.mobius.api.model.CreateSecretRequest;
import dev.mobius.api.model.Secret;
import dev.mobius.api.model.SecretListResponse;
import dev.mobius.api.model.SecretVersion;
import dev.mobius.api.model.SecretVersionListResponse;
import dev.mobius.api.model.SecretVersionState;
import dev.mobius.api.model.UpdateSecretRequest;
import dev.mobius.server.audit.AuditTrail;
import dev.mobius.server.db.Daos;
import dev.mobius.server.db.SqlWhere;
import dev.mobius.server.http.ApiException;
import dev.mobius.server.http.Cursors;
import dev.mobius.server.http.PageRequest;
import dev.mobius.server.http.Validator;
import dev.mobius.server.tenancy.Caller;
import dev.mobius.server.tenancy.ProjectAccess;
import dev.mobius.server.tenancy.ProjectRow;
import dev.mobius.server.time.Times;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;

/**
 * The secrets routes: project secrets and their versions, metadata only. Values go into the
 * {@link SecretStore} and never come back out through here; audit entries name the key names and
 * versions, never a value.
 */
public final class SecretService {
    private static final Pattern KEY = Pattern.compile("[A-Za-z_][A-Za-z0-9_.-]{0,127}");
    private static final Pattern ID_SHAPED = Pattern.compile("sec_[0-9a-z]{26}");
    private static final Pattern VERSION = Pattern.compile("[1-9][0-9]{0,8}");
    private static final int MAX_VALUE_CHARS = 65_536;
    static final String KEY_RULE = "must be 1-128 characters of A-Z, a-z, 0-9, _, . and -, starting with a letter or _";

    private final Jdbi jdbi;
    private final SecretStore store;
    private final AuditTrail audit;
    private final Cursors cursors;

    public SecretService(Jdbi jdbi, SecretStore store, AuditTrail audit, Cursors cursors) {
        this.jdbi = jdbi;
        this.store = store;
        this.audit = audit;
        this.cursors = cursors;
    }

    // ---- request rules (checked with the schema's, in one 400) ------------------------------------

    public static void check(CreateSecretRequest body, Validator v) {
        if (body.getName() != null && ID_SHAPED.matcher(body.getName()).matches()) {
            v.add("name", "must not look like a secret id");
        }
        checkValues(body.getValues(), v);
    }

    public static void check(UpdateSecretRequest body, Validator v) {
        checkValues(body.getValues(), v);
    }

    private static void checkValues(Map<String, String> values, Validator v) {
        if (values == null) {
            return;
        }
        values.forEach((key, value) -> {
            if (!KEY.matcher(key).matches()) {
                v.add("values." + key, KEY_RULE);
            } else if (value == null) {
                v.add("values." + key, "must be a string");
            } else if (value.length() > MAX_VALUE_CHARS) {
                v.add("values." + key, "must be at most " + MAX_VALUE_CHARS + " characters");
            }
        });
    }

    // ---- routes ---------------------------------------------------------------------------------

    public SecretListResponse list(Caller caller, String projectRef, String cursor, Integer limit) {
        return jdbi.withHandle(h -> {
            ProjectRow project = ProjectAccess.require(h, caller, projectRef);
            String scope = "secrets:" + project.id();
            PageRequest page = PageRequest.of(limit, cursor, scope, cursors);
            SqlWhere where = new SqlWhere()
                    .and("project_id = :p", "p", project.id())
                    .and("owner_kind = 'project'")
                    .andIf(page.afterId(), "id > :after", "after");
            PageRequest.Page<Secret> result = page.page(
                    Daos.of(h, SecretDao.class).list(where, page.fetchSize()),
                    SecretRow::id,
                    SecretService::view,
                    scope,
                    cursors);
            return new SecretListResponse()
                    .items(result.items())
                    .hasMore(result.hasMore())
                    .nextCursor(result.nextCursor());
        });
    }

    public Secret create(Caller caller, String projectRef, CreateSecretRequest request) {
        return jdbi.inTransaction(h -> {
            ProjectRow project = ProjectAccess.require(h, caller, projectRef);
            String name = request.getName();
            if (Daos.of(h, SecretDao.class).nameTaken(project.id(), name)) {
                throw nameTaken(name);
            }
            SecretStore.Written w = store.create(
                    h,
                    project.orgId(),
                    project.id(),
                    name,
                    "project",
                    blankToNull(request.getDescription()),
                    request.getValues(),
                    caller.principalId());
            audit.created(h, caller, project.id(), "secret", w.secret().id(), name, summary(w.secret()));
            return view(w.secret());
        });
    }

    public Secret get(Caller caller, String projectRef, String ref) {
        return jdbi.withHandle(h -> view(find(h, caller, projectRef, ref)));
    }

    public Secret update(Caller caller, String projectRef, String ref, UpdateSecretRequest request) {
        return jdbi.inTransaction(h -> {
            ProjectRow project = ProjectAccess.require(h, caller, projectRef);
            SecretRow row = Daos.of(h, SecretDao.class).lock(project.id(), ref).orElseThrow(() -> notFound(ref));
            String description =
                    request.getDescription() == null ? row.description() : blankToNull(request.getDescription());
            SecretRow after;
            if (request.getValues() != null) {
                after = store.addVersion(h, row, description, request.getValues(), caller.principalId())
                        .secret();
            } else if (!Objects.equals(description, row.description())) {
                after = new SecretRow(
                        row.id(),
                        row.orgId(),
                        row.projectId(),
                        row.name(),
                        row.ownerKind(),
                        description,
                        row.latestVersion(),
                        row.keyNames(),
                        row.createdBy(),
                        caller.principalId(),
                        row.createdAt(),
                        Times.now());
                Daos.of(h, SecretDao.class).update(after);
            } else {
                return view(row);
            }
            audit.updated(h, caller, project.id(), "secret", row.id(), row.name(), summary(row), summary(after));
            return view(after);
        });
    }

    public void delete(Caller caller, String projectRef, String ref) {
        jdbi.useTransaction(h -> {
            ProjectRow project = ProjectAccess.require(h, caller, projectRef);
            SecretDao dao = Daos.of(h, SecretDao.class);
            SecretRow row = dao.lock(project.id(), ref).orElseThrow(() -> notFound(ref));
            dao.delete(row.id()); // every version goes with it (ON DELETE CASCADE)
            audit.deleted(h, caller, project.id(), "secret", row.id(), row.name(), summary(row));
        });
    }

    public SecretVersionListResponse versions(Caller caller, String projectRef, String ref) {
        return jdbi.withHandle(h -> {
            SecretRow row = find(h, caller, projectRef, ref);
            return new SecretVersionListResponse()
                    .items(Daos.of(h, SecretDao.class).versions(row.id()).stream()
                            .map(SecretService::view)
                            .toList());
        });
    }

    public SecretVersion version(Caller caller, String projectRef, String ref, String version) {
        boolean latest = "latest".equals(version);
        if (!latest && !VERSION.matcher(version).matches()) {
            throw ApiException.invalidParameter(
                    List.of(new ApiException.FieldError("version", "must be a positive integer or latest")));
        }
        return jdbi.withHandle(h -> {
            SecretRow row = find(h, caller, projectRef, ref);
            int number = latest ? row.latestVersion() : Integer.parseInt(version);
            return view(Daos.of(h, SecretDao.class)
                    .version(row.id(), number)
                    .orElseThrow(() -> ApiException.notFound("secret \"" + ref + "\" has no version " + version)));
        });
    }

    // ---- helpers --------------------------------------------------------------------------------

    private static SecretRow find(Handle h, Caller caller, String projectRef, String ref) {
        ProjectRow project = ProjectAccess.require(h, caller, projectRef);
        return Daos.of(h, SecretDao.class).find(project.id(), ref).orElseThrow(() -> notFound(ref));
    }

    static ApiException notFound(String ref) {
        return ApiException.notFound("secret \"" + ref + "\" not found");
    }

    private static ApiException nameTaken(String name) {
        return ApiException.conflict(
                "secret_name_taken", "a secret named \"" + name + "\" already exists", Map.of("name", name));
    }

    private static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s;
    }

    /** What the audit trail keeps of a secret: never a value. */
    private static Map<String, Object> summary(SecretRow row) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", row.name());
        if (row.description() != null) {
            m.put("description", row.description());
        }
        m.put("version", row.latestVersion());
        m.put("key_names", Arrays.asList(row.keyNames()));
        return m;
    }

    static Secret view(SecretRow row) {
        return new Secret()
                .id(row.id())
                .name(row.name())
                .description(row.description())
                .version((long) row.latestVersion())
                .keyNames(Arrays.asList(row.keyNames()))
                .createdBy(row.createdBy())
                .updatedBy(row.updatedBy())
                .createdAt(row.createdAt())
                .updatedAt(row.updatedAt());
    }

    static SecretVersion view(SecretVersionRow row) {
        return new SecretVersion()
                .id(row.id())
                .secretId(row.secretId())
                .version((long) row.version())
                .state(SecretVersionState.fromValue(row.state()))
                .sha256(row.sha256())
                .kmsKeyId(row.masterKeyId())
                .createdBy(row.createdBy())
                .createdAt(row.createdAt())
                .destroyedAt(row.destroyedAt());
    }
}
