package dev.mobius.server.mcpservers;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mobius.api.model.CreateMcpServerRequest;
import dev.mobius.api.model.McpServer;
import dev.mobius.api.model.McpServerListResponse;
import dev.mobius.api.model.McpTransport;
import dev.mobius.api.model.UpdateMcpServerRequest;
import dev.mobius.server.audit.AuditTrail;
import dev.mobius.server.db.Daos;
import dev.mobius.server.db.SqlWhere;
import dev.mobius.server.http.ApiException;
import dev.mobius.server.http.Cursors;
import dev.mobius.server.http.PageRequest;
import dev.mobius.server.http.Validator;
import dev.mobius.server.ids.Ids;
import dev.mobius.server.json.Json;
import dev.mobius.server.secrets.SecretDao;
import dev.mobius.server.secrets.SecretStore;
import dev.mobius.server.tenancy.Caller;
import dev.mobius.server.tenancy.ProjectAccess;
import dev.mobius.server.tenancy.ProjectRow;
import dev.mobius.server.time.Times;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;

/**
 * The MCP servers of a project. Plain settings are columns; secret variables and headers are one
 * secret of the secret store owned by the server ({@code mobius/mcp_server/<id>}, keys
 * {@code env:<NAME>} and {@code header:<NAME>}), replaced whole when they change so a removed value
 * is not kept. The {@code /v1} views name secrets and never hold a value; {@link #decrypted} is the
 * one way out for values, and nothing here logs them.
 */
public final class McpServerService {
    private static final String ENV = "env:";
    private static final String HEADER = "header:";
    private static final TypeReference<List<String>> STRINGS = new TypeReference<>() {};
    private static final TypeReference<Map<String, String>> STRING_MAP = new TypeReference<>() {};
    private static final TypeReference<Map<String, Object>> OBJECT_MAP = new TypeReference<>() {};

    /** A server as an MCP client is given it: its configuration with secret values in place. */
    public record Decrypted(String name, boolean enabled, Map<String, Object> config) {}

    private final Jdbi jdbi;
    private final Ids ids;
    private final ObjectMapper mapper;
    private final AuditTrail audit;
    private final Cursors cursors;
    private final SecretStore store;

    public McpServerService(
            Jdbi jdbi, Ids ids, ObjectMapper mapper, AuditTrail audit, Cursors cursors, SecretStore store) {
        this.jdbi = jdbi;
        this.ids = ids;
        this.mapper = mapper;
        this.audit = audit;
        this.cursors = cursors;
        this.store = store;
    }

    // ---- request rules (checked with the schema's, in one 400) -----------------------------------

    public static void check(CreateMcpServerRequest body, Validator v) {
        List<ApiException.FieldError> out = McpServerRules.newList();
        McpServerRules.fields(
                body.getName(),
                body.getEnv(),
                body.getEnvSecrets(),
                body.getUrl(),
                body.getHttpHeaders(),
                body.getHeaderSecrets(),
                body.getExtra(),
                false,
                out);
        if (body.getTransport() != null) {
            McpServerRules.whole(
                    new McpServerRules.Config(
                            body.getName(),
                            body.getTransport().toString(),
                            body.getCommand(),
                            orEmpty(body.getArgs()),
                            orEmpty(body.getEnv()),
                            orEmpty(body.getEnvSecrets()),
                            body.getUrl(),
                            orEmpty(body.getHttpHeaders()),
                            orEmpty(body.getHeaderSecrets()),
                            orEmpty(body.getExtra())),
                    out);
        }
        McpServerRules.report(out, v);
    }

    public static void check(UpdateMcpServerRequest body, Validator v) {
        List<ApiException.FieldError> out = McpServerRules.newList();
        McpServerRules.fields(
                body.getName(),
                body.getEnv(),
                body.getEnvSecrets(),
                body.getUrl(),
                body.getHttpHeaders(),
                body.getHeaderSecrets(),
                body.getExtra(),
                true,
                out);
        McpServerRules.report(out, v);
    }

    // ---- routes ---------------------------------------------------------------------------------

    public McpServerListResponse list(Caller caller, String projectRef, String cursor, Integer limit) {
        return jdbi.withHandle(h -> {
            ProjectRow project = ProjectAccess.require(h, caller, projectRef);
            String scope = "mcp-servers:" + project.id();
            PageRequest page = PageRequest.of(limit, cursor, scope, cursors);
            SqlWhere where = new SqlWhere()
                    .and("project_id = :p", "p", project.id())
                    .andIf(page.afterId(), "id > :after", "after");
            PageRequest.Page<McpServer> result = page.page(
                    Daos.of(h, McpServerDao.class).list(where, page.fetchSize()),
                    McpServerRow::id,
                    this::view,
                    scope,
                    cursors);
            return new McpServerListResponse()
                    .items(result.items())
                    .hasMore(result.hasMore())
                    .nextCursor(result.nextCursor());
        });
    }

    public McpServer create(Caller caller, String projectRef, CreateMcpServerRequest request) {
        return jdbi.inTransaction(h -> {
            ProjectRow project = ProjectAccess.require(h, caller, projectRef);
            McpServerDao dao = Daos.of(h, McpServerDao.class);
            if (dao.nameTaken(project.id(), request.getName(), "")) {
                throw nameTaken(request.getName());
            }
            McpServerRules.Config config = new McpServerRules.Config(
                    request.getName(),
                    request.getTransport().toString(),
                    request.getCommand(),
                    orEmpty(request.getArgs()),
                    orEmpty(request.getEnv()),
                    orEmpty(request.getEnvSecrets()),
                    request.getUrl(),
                    orEmpty(request.getHttpHeaders()),
                    orEmpty(request.getHeaderSecrets()),
                    orEmpty(request.getExtra()));
            OffsetDateTime now = Times.now();
            McpServerRow row = row(
                    ids.next("mcps"),
                    project.id(),
                    config,
                    !Boolean.FALSE.equals(request.getEnabled()),
                    null,
                    caller.principalId(),
                    caller.principalId(),
                    now,
                    now);
            dao.insert(row);
            row = withSecret(h, caller, project, row, secretValues(config));
            audit.created(h, caller, project.id(), "mcp_server", row.id(), row.name(), summary(row));
            return view(row);
        });
    }

    public McpServer get(Caller caller, String projectRef, String id) {
        return jdbi.withHandle(h -> {
            ProjectRow project = ProjectAccess.require(h, caller, projectRef);
            return view(Daos.of(h, McpServerDao.class).find(project.id(), id).orElseThrow(() -> notFound(id)));
        });
    }

    public McpServer update(Caller caller, String projectRef, String id, UpdateMcpServerRequest request) {
        return jdbi.inTransaction(h -> {
            ProjectRow project = ProjectAccess.require(h, caller, projectRef);
            McpServerDao dao = Daos.of(h, McpServerDao.class);
            McpServerRow row = dao.lock(project.id(), id).orElseThrow(() -> notFound(id));
            McpServerRules.Config before = config(h, row);
            McpServerRules.Config after = apply(before, request);
            List<ApiException.FieldError> problems = McpServerRules.newList();
            McpServerRules.whole(after, problems);
            if (!problems.isEmpty()) {
                throw ApiException.validation(Validator.sortedByField(problems));
            }
            if (!after.name().equals(row.name()) && dao.nameTaken(project.id(), after.name(), row.id())) {
                throw nameTaken(after.name());
            }
            boolean enabled = request.getEnabled() == null ? row.enabled() : request.getEnabled();
            McpServerRow next = row(
                    row.id(),
                    row.projectId(),
                    after,
                    enabled,
                    row.secretId(),
                    row.createdBy(),
                    caller.principalId(),
                    row.createdAt(),
                    Times.now());
            Map<String, String> secretsBefore = secretValues(before);
            Map<String, String> secretsAfter = secretValues(after);
            boolean secretsChanged = !secretsBefore.equals(secretsAfter);
            Map<String, Object> summaryBefore = summary(row);
            Map<String, Object> summaryAfter = summary(next);
            if (!secretsChanged && summaryBefore.equals(summaryAfter)) {
                return view(row);
            }
            dao.update(next);
            if (secretsChanged) {
                next = withSecret(h, caller, project, next, secretsAfter);
                // Which secret values changed is recorded by name; what they are, never.
                summaryAfter.put("secret_values", "changed");
            }
            audit.updated(h, caller, project.id(), "mcp_server", row.id(), next.name(), summaryBefore, summaryAfter);
            return view(next);
        });
    }

    public void delete(Caller caller, String projectRef, String id) {
        jdbi.useTransaction(h -> {
            ProjectRow project = ProjectAccess.require(h, caller, projectRef);
            McpServerDao dao = Daos.of(h, McpServerDao.class);
            McpServerRow row = dao.lock(project.id(), id).orElseThrow(() -> notFound(id));
            dao.delete(row.id()); // its secret goes with it (the table's trigger)
            audit.deleted(h, caller, project.id(), "mcp_server", row.id(), row.name(), summary(row));
        });
    }

    // ---- the decrypted configuration -----------------------------------------------------------

    /**
     * Every MCP server of the project, disabled ones included, in the order they were added, with
     * their configuration as an MCP client needs it: for {@code stdio} {@code extra} plus
     * {@code command}, {@code args} and {@code env} (plain and secret variables together), for
     * {@code http} {@code extra} plus {@code url} and {@code http_headers} (plain and secret headers
     * together). A secret value that cannot be read is left out. Secret material: never log it.
     */
    public List<Decrypted> decrypted(String projectId) {
        return jdbi.withHandle(h -> {
            List<Decrypted> out = new ArrayList<>();
            for (McpServerRow row : Daos.of(h, McpServerDao.class).all(projectId)) {
                McpServerRules.Config c = config(h, row);
                Map<String, Object> config = new LinkedHashMap<>(c.extra());
                if ("stdio".equals(c.transport())) {
                    Map<String, String> env = new LinkedHashMap<>(c.env());
                    env.putAll(c.envSecrets());
                    config.put("command", c.command());
                    config.put("args", c.args());
                    config.put("env", env);
                } else {
                    Map<String, String> headers = new LinkedHashMap<>(c.httpHeaders());
                    headers.putAll(c.headerSecrets());
                    config.put("url", c.url());
                    config.put("http_headers", headers);
                }
                out.add(new Decrypted(row.name(), row.enabled(), config));
            }
            return out;
        });
    }

    // ---- helpers --------------------------------------------------------------------------------

    /** The request's changes on top of the stored configuration (see UpdateMcpServerRequest). */
    private static McpServerRules.Config apply(McpServerRules.Config c, UpdateMcpServerRequest r) {
        String transport =
                r.getTransport() == null ? c.transport() : r.getTransport().toString();
        boolean switched = !transport.equals(c.transport());
        String command = switched ? null : c.command();
        List<String> args = switched ? List.of() : c.args();
        Map<String, String> env = switched ? Map.of() : c.env();
        Map<String, String> envSecrets = switched ? new TreeMap<>() : new TreeMap<>(c.envSecrets());
        String url = switched ? null : c.url();
        Map<String, String> headers = switched ? Map.of() : c.httpHeaders();
        Map<String, String> headerSecrets = switched ? new TreeMap<>() : new TreeMap<>(c.headerSecrets());
        merge(envSecrets, r.getEnvSecrets());
        merge(headerSecrets, r.getHeaderSecrets());
        return new McpServerRules.Config(
                r.getName() == null ? c.name() : r.getName(),
                transport,
                r.getCommand() == null ? command : r.getCommand(),
                r.getArgs() == null ? args : r.getArgs(),
                r.getEnv() == null ? env : r.getEnv(),
                envSecrets,
                r.getUrl() == null ? url : r.getUrl(),
                r.getHttpHeaders() == null ? headers : r.getHttpHeaders(),
                headerSecrets,
                r.getExtra() == null ? c.extra() : r.getExtra());
    }

    private static void merge(Map<String, String> into, Map<String, String> changes) {
        if (changes != null) {
            changes.forEach((k, v) -> {
                if (v == null) {
                    into.remove(k);
                } else {
                    into.put(k, v);
                }
            });
        }
    }

    /** The stored configuration with secret values read from the secret store. */
    private McpServerRules.Config config(Handle h, McpServerRow row) {
        Map<String, String> secrets = row.secretId() == null
                ? Map.of()
                : store.values(h, row.secretId(), 1).orElse(Map.of());
        Map<String, String> envSecrets = new TreeMap<>();
        Map<String, String> headerSecrets = new TreeMap<>();
        for (String name : row.envSecretNames()) {
            String value = secrets.get(ENV + name);
            if (value != null) {
                envSecrets.put(name, value);
            }
        }
        for (String name : row.headerSecretNames()) {
            String value = secrets.get(HEADER + name);
            if (value != null) {
                headerSecrets.put(name, value);
            }
        }
        return new McpServerRules.Config(
                row.name(),
                row.transport(),
                row.command(),
                Json.read(mapper, row.args(), STRINGS),
                Json.read(mapper, row.env(), STRING_MAP),
                envSecrets,
                row.url(),
                Json.read(mapper, row.httpHeaders(), STRING_MAP),
                headerSecrets,
                Json.read(mapper, row.extra(), OBJECT_MAP));
    }

    private static Map<String, String> secretValues(McpServerRules.Config c) {
        Map<String, String> values = new TreeMap<>();
        c.envSecrets().forEach((k, v) -> values.put(ENV + k, v));
        c.headerSecrets().forEach((k, v) -> values.put(HEADER + k, v));
        return values;
    }

    private McpServerRow row(
            String id,
            String projectId,
            McpServerRules.Config c,
            boolean enabled,
            String secretId,
            String createdBy,
            String updatedBy,
            OffsetDateTime createdAt,
            OffsetDateTime updatedAt) {
        return new McpServerRow(
                id,
                projectId,
                c.name(),
                enabled,
                c.transport(),
                c.command(),
                Json.write(mapper, c.args()),
                Json.write(mapper, new TreeMap<>(c.env())),
                c.envSecrets().keySet().stream().sorted().toArray(String[]::new),
                c.url(),
                Json.write(mapper, new TreeMap<>(c.httpHeaders())),
                c.headerSecrets().keySet().stream().sorted().toArray(String[]::new),
                Json.write(mapper, c.extra()),
                secretId,
                createdBy,
                updatedBy,
                createdAt,
                updatedAt);
    }

    /** Replaces the server's secret with one holding exactly {@code values} (none when empty). */
    private McpServerRow withSecret(
            Handle h, Caller caller, ProjectRow project, McpServerRow row, Map<String, String> values) {
        McpServerDao dao = Daos.of(h, McpServerDao.class);
        if (row.secretId() != null) {
            dao.dropSecret(row.id());
            Daos.of(h, SecretDao.class).delete(row.secretId());
        }
        String secretId = null;
        if (!values.isEmpty()) {
            secretId = store.create(
                            h,
                            project.orgId(),
                            project.id(),
                            SecretStore.ownedName("mcp_server", row.id()),
                            "mcp_server",
                            null,
                            values,
                            caller.principalId())
                    .secret()
                    .id();
        }
        McpServerRow next = new McpServerRow(
                row.id(),
                row.projectId(),
                row.name(),
                row.enabled(),
                row.transport(),
                row.command(),
                row.args(),
                row.env(),
                row.envSecretNames(),
                row.url(),
                row.httpHeaders(),
                row.headerSecretNames(),
                row.extra(),
                secretId,
                row.createdBy(),
                row.updatedBy(),
                row.createdAt(),
                row.updatedAt());
        dao.update(next);
        return next;
    }

    static ApiException notFound(String id) {
        return ApiException.notFound("MCP server \"" + id + "\" not found");
    }

    private static ApiException nameTaken(String name) {
        return ApiException.conflict(
                "mcp_server_name_taken", "an MCP server named \"" + name + "\" already exists", Map.of("name", name));
    }

    /** What the audit trail keeps of a server: plain settings and secret names, never a secret value. */
    private Map<String, Object> summary(McpServerRow row) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", row.name());
        m.put("enabled", row.enabled());
        m.put("transport", row.transport());
        if (row.command() != null) {
            m.put("command", row.command());
        }
        m.put("args", Json.read(mapper, row.args(), STRINGS));
        m.put("env", Json.read(mapper, row.env(), STRING_MAP));
        m.put("env_secret_names", Arrays.asList(row.envSecretNames()));
        if (row.url() != null) {
            m.put("url", row.url());
        }
        m.put("http_headers", Json.read(mapper, row.httpHeaders(), STRING_MAP));
        m.put("header_secret_names", Arrays.asList(row.headerSecretNames()));
        m.put("extra", Json.read(mapper, row.extra(), OBJECT_MAP));
        return m;
    }

    McpServer view(McpServerRow row) {
        return new McpServer()
                .id(row.id())
                .name(row.name())
                .enabled(row.enabled())
                .transport(McpTransport.fromValue(row.transport()))
                .command(row.command())
                .args(Json.read(mapper, row.args(), STRINGS))
                .env(Json.read(mapper, row.env(), STRING_MAP))
                .envSecretNames(Arrays.asList(row.envSecretNames()))
                .url(row.url())
                .httpHeaders(Json.read(mapper, row.httpHeaders(), STRING_MAP))
                .headerSecretNames(Arrays.asList(row.headerSecretNames()))
                .extra(Json.read(mapper, row.extra(), OBJECT_MAP))
                .createdAt(row.createdAt())
                .updatedAt(row.updatedAt());
    }

    private static <T> List<T> orEmpty(List<T> list) {
        return list == null ? List.of() : list;
    }

    private static <V> Map<String, V> orEmpty(Map<String, V> map) {
        return map == null ? Map.of() : map;
    }
}
