package dev.mobius.server.control.mcpservers;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mobius.api.model.CreateMcpServerRequest;
import dev.mobius.api.model.McpServer;
import dev.mobius.api.model.McpServerListResponse;
import dev.mobius.api.model.McpTransport;
import dev.mobius.server.audit.AuditTrail;
import dev.mobius.server.control.ControlException;
import dev.mobius.server.http.ApiException;
import dev.mobius.server.http.Validator;
import dev.mobius.server.ids.Ids;
import dev.mobius.server.mcpservers.McpServerService;
import dev.mobius.server.mogplex.MogplexCaller;
import dev.mobius.server.mogplex.discovery.DiscoveryService;
import jakarta.validation.ConstraintViolation;
import jakarta.validation.Validation;
import jakarta.validation.ValidatorFactory;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.jdbi.v3.core.Jdbi;

/**
 * {@code /api/mcp-servers}: the caller's MCP servers in the web shape (secret names only), the CLI
 * list with secret values (exactly the v1 discovery list, recorded in the audit trail), and creation
 * in the web body's words with the hosted codes. Storage and the rules are those of
 * {@link McpServerService}; nothing here logs a body or a value.
 */
public final class McpServersService {
    /** The web body's field names beside the {@code /v1} ones the rules speak of. */
    private static final Map<String, String> WEB_NAMES = Map.of(
            "env", "envPlain",
            "env_secrets", "envSecrets",
            "http_headers", "headerPlain",
            "header_secrets", "headerSecrets",
            "httpHeaders", "headerPlain");

    private final Jdbi jdbi;
    private final Ids ids;
    private final ObjectMapper mapper;
    private final AuditTrail audit;
    private final McpServerService servers;
    private final DiscoveryService discovery;
    private final jakarta.validation.Validator beans;

    public McpServersService(
            Jdbi jdbi,
            Ids ids,
            ObjectMapper mapper,
            AuditTrail audit,
            McpServerService servers,
            DiscoveryService discovery,
            ValidatorFactory validation) {
        this.jdbi = jdbi;
        this.ids = ids;
        this.mapper = mapper;
        this.audit = audit;
        this.servers = servers;
        this.discovery = discovery;
        this.beans = validation.getValidator();
    }

    /** A factory for the schema's constraints on the {@code /v1} request the body becomes. */
    public static ValidatorFactory defaultValidation() {
        return Validation.buildDefaultValidatorFactory();
    }

    /** {@code {servers}}, newest first, without secret values. */
    public ObjectNode web(MogplexCaller user) {
        List<McpServer> all = new ArrayList<>();
        String cursor = null;
        do {
            McpServerListResponse page = servers.list(
                    user.asCaller(), user.projectId(), cursor, dev.mobius.server.http.PageRequest.MAX_LIMIT);
            all.addAll(page.getItems());
            cursor = Boolean.TRUE.equals(page.getHasMore()) ? page.getNextCursor() : null;
        } while (cursor != null);
        // Ids are time-ordered (UUIDv7), so the newest has the greatest id.
        all.sort(Comparator.comparing(McpServer::getId).reversed());
        ArrayNode out = mapper.createArrayNode();
        all.forEach(s -> out.add(webRecord(s)));
        ObjectNode body = mapper.createObjectNode();
        body.set("servers", out);
        return body;
    }

    /**
     * The CLI list with decrypted secret values: the v1 discovery list itself. Handing it out is
     * recorded (which servers, never a value) in its own transaction before the answer leaves.
     */
    public JsonNode cli(MogplexCaller user) {
        JsonNode list = discovery.mcpServers(user).get("servers");
        List<String> names = new ArrayList<>();
        list.forEach(s -> names.add(s.path("name").asText()));
        jdbi.useTransaction(h -> audit.write(
                h,
                user.asCaller(),
                user.projectId(),
                AuditTrail.Action.create,
                "mcp_server_credentials",
                ids.next("mcpcred"),
                "cli",
                null,
                AuditTrail.summary("servers", names, "secret_values", "decrypted")));
        return list;
    }

    /** Creates a server from the web body; 201 {@code {server}}. */
    public ObjectNode create(MogplexCaller user, JsonNode body) {
        CreateMcpServerRequest request = request(body);
        Validator rules = new Validator();
        McpServerService.check(request, rules);
        List<ApiException.FieldError> errors = new ArrayList<>(rules.errors());
        for (ConstraintViolation<CreateMcpServerRequest> v : beans.validate(request)) {
            errors.add(new ApiException.FieldError(v.getPropertyPath().toString(), v.getMessage()));
        }
        if (!errors.isEmpty()) {
            throw refusal(Validator.sortedByField(errors).get(0));
        }
        McpServer created;
        try {
            created = servers.create(user.asCaller(), user.projectId(), request);
        } catch (ApiException e) {
            if (e.status() == 409) {
                throw ControlException.withCode(
                        409, "DUPLICATE_NAME", "An MCP server named \"" + request.getName() + "\" already exists");
            }
            throw e;
        }
        ObjectNode answer = mapper.createObjectNode();
        answer.set("server", webRecord(created));
        return answer;
    }

    private ObjectNode webRecord(McpServer s) {
        ObjectNode o = mapper.createObjectNode();
        o.put("id", Ids.uuidOf(s.getId()));
        o.put("name", s.getName());
        o.put("enabled", s.getEnabled());
        o.put("transport", s.getTransport().toString());
        o.put("command", s.getCommand());
        o.set("args", mapper.valueToTree(s.getArgs() == null ? List.of() : s.getArgs()));
        o.set("envPlain", mapper.valueToTree(s.getEnv() == null ? Map.of() : s.getEnv()));
        o.set("envSecretNames", sorted(s.getEnvSecretNames()));
        o.put("url", s.getUrl());
        o.set("headerPlain", mapper.valueToTree(s.getHttpHeaders() == null ? Map.of() : s.getHttpHeaders()));
        o.set("headerSecretNames", sorted(s.getHeaderSecretNames()));
        o.set("extra", mapper.valueToTree(s.getExtra() == null ? Map.of() : s.getExtra()));
        o.set("createdAt", mapper.valueToTree(s.getCreatedAt()));
        o.set("updatedAt", mapper.valueToTree(s.getUpdatedAt()));
        return o;
    }

    private ArrayNode sorted(List<String> names) {
        ArrayNode out = mapper.createArrayNode();
        if (names != null) {
            new TreeSet<>(names).forEach(out::add);
        }
        return out;
    }

    /** The {@code /v1} request the web body stands for; types are checked here, rules by the service. */
    private CreateMcpServerRequest request(JsonNode body) {
        if (body == null || !body.isObject()) {
            throw invalid("INVALID_MCP_SERVER", "Body must be a JSON object");
        }
        JsonNode name = body.path("name");
        if (!name.isTextual() || name.asText().isBlank()) {
            throw invalid("INVALID_NAME", "name is required");
        }
        JsonNode transport = body.path("transport");
        if (!transport.isTextual()
                || !(transport.asText().equals("stdio") || transport.asText().equals("http"))) {
            throw invalid("INVALID_TRANSPORT", "transport must be \"stdio\" or \"http\"");
        }
        JsonNode extra = body.path("extra");
        if (!extra.isMissingNode() && !extra.isNull() && !extra.isObject()) {
            throw invalid("INVALID_EXTRA", "extra must be an object");
        }
        JsonNode enabled = body.path("enabled");
        if (!enabled.isMissingNode() && !enabled.isNull() && !enabled.isBoolean()) {
            throw invalid("INVALID_MCP_SERVER", "enabled must be a boolean");
        }
        CreateMcpServerRequest request = new CreateMcpServerRequest()
                .name(name.asText().trim())
                .enabled(enabled.isBoolean() ? enabled.asBoolean() : Boolean.TRUE)
                .transport(McpTransport.fromValue(transport.asText()))
                .command(text(body, "command"))
                .url(text(body, "url"))
                .args(strings(body, "args"))
                .env(stringMap(body, "envPlain"))
                .envSecrets(stringMap(body, "envSecrets"))
                .httpHeaders(stringMap(body, "headerPlain"))
                .headerSecrets(stringMap(body, "headerSecrets"));
        if (extra.isObject()) {
            request.extra(mapper.convertValue(extra, new com.fasterxml.jackson.core.type.TypeReference<>() {}));
        }
        return request;
    }

    private static String text(JsonNode body, String field) {
        JsonNode v = body.path(field);
        if (v.isMissingNode() || v.isNull()) {
            return null;
        }
        if (!v.isTextual()) {
            throw invalid("INVALID_MCP_SERVER", field + " must be a string");
        }
        return v.asText();
    }

    private static List<String> strings(JsonNode body, String field) {
        JsonNode v = body.path(field);
        if (v.isMissingNode() || v.isNull()) {
            return null;
        }
        List<String> out = new ArrayList<>();
        if (v.isArray()) {
            for (JsonNode item : v) {
                if (!item.isTextual()) {
                    throw invalid("INVALID_MCP_SERVER", field + " must be an array of strings");
                }
                out.add(item.asText());
            }
            return out;
        }
        throw invalid("INVALID_MCP_SERVER", field + " must be an array of strings");
    }

    private static Map<String, String> stringMap(JsonNode body, String field) {
        JsonNode v = body.path(field);
        if (v.isMissingNode() || v.isNull()) {
            return null;
        }
        if (!v.isObject()) {
            throw invalid("INVALID_MCP_SERVER", field + " must be an object of strings");
        }
        Map<String, String> out = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : v.properties()) {
            if (!e.getValue().isTextual()) {
                throw invalid("INVALID_MCP_SERVER", field + "." + e.getKey() + " must be a string");
            }
            out.put(e.getKey(), e.getValue().asText());
        }
        return out;
    }

    /** A rule's failure in the web body's words, with its code. */
    private static ControlException refusal(ApiException.FieldError error) {
        String field = webField(error.field());
        String reason = error.reason();
        for (Map.Entry<String, String> name : WEB_NAMES.entrySet()) {
            reason = reason.replace("given in " + name.getKey(), "given in " + name.getValue());
        }
        String code;
        if (field.equals("name")) {
            code = "INVALID_NAME";
        } else if (field.equals("transport")) {
            code = "INVALID_TRANSPORT";
        } else if (field.equals("extra") || field.startsWith("extra.")) {
            code = "INVALID_EXTRA";
        } else if (error.reason().startsWith("is also given in")) {
            code = "INVALID_DUPLICATE_KEY";
        } else {
            code = "INVALID_MCP_SERVER";
        }
        return invalid(code, field + " " + reason);
    }

    /** {@code env_secrets.KEY} → {@code envSecrets.KEY}; bean paths ({@code env[KEY].<map value>}) alike. */
    private static String webField(String field) {
        String head = field;
        String rest = "";
        int cut = indexOfAny(field, '.', '[');
        if (cut >= 0) {
            head = field.substring(0, cut);
            rest = field.substring(cut)
                    .replaceAll("\\[([^\\]]*)\\]\\.<map value>", ".$1")
                    .replaceAll("\\[([^\\]]*)\\]\\.<list element>", "[$1]")
                    .replaceAll("<map key>", "");
        }
        return WEB_NAMES.getOrDefault(head, head) + rest;
    }

    private static int indexOfAny(String s, char a, char b) {
        int i = s.indexOf(a);
        int j = s.indexOf(b);
        return i < 0 ? j : j < 0 ? i : Math.min(i, j);
    }

    private static ControlException invalid(String code, String message) {
        return ControlException.withCode(400, code, message);
    }
}
