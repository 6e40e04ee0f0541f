package dev.mobius.server.mcpservers;

import dev.mobius.server.http.ApiException;
import dev.mobius.server.http.Validator;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/** The rules of an MCP server's configuration, on a request body and on the result of a change. */
final class McpServerRules {
    static final Set<String> RESERVED_EXTRA = Set.of("args", "command", "env", "http_headers", "url");
    private static final Pattern ENV_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,255}");
    private static final Pattern HEADER_NAME = Pattern.compile("[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}");

    private McpServerRules() {}

    /** A whole configuration, as it would be stored; secret maps hold names to values. */
    record Config(
            String name,
            String transport,
            String command,
            List<String> args,
            Map<String, String> env,
            Map<String, String> envSecrets,
            String url,
            Map<String, String> httpHeaders,
            Map<String, String> headerSecrets,
            Map<String, Object> extra) {}

    /** Rules of the fields a body sends, each on its own ({@code removable}: a null secret value removes it). */
    static void fields(
            String name,
            Map<String, String> env,
            Map<String, String> envSecrets,
            String url,
            Map<String, String> headers,
            Map<String, String> headerSecrets,
            Map<String, Object> extra,
            boolean removable,
            List<ApiException.FieldError> out) {
        if (name != null && name.contains("__")) {
            out.add(new ApiException.FieldError("name", "must not contain \"__\""));
        }
        names("env", env, ENV_NAME, "must be a letter or _ followed by letters, digits or _", out);
        names("env_secrets", envSecrets, ENV_NAME, "must be a letter or _ followed by letters, digits or _", out);
        names("http_headers", headers, HEADER_NAME, "must be an HTTP header name", out);
        names("header_secrets", headerSecrets, HEADER_NAME, "must be an HTTP header name", out);
        plainValues("env", env, out);
        plainValues("http_headers", headers, out);
        secretValues("env_secrets", envSecrets, removable, out);
        secretValues("header_secrets", headerSecrets, removable, out);
        if (url != null && !urlOk(url)) {
            out.add(new ApiException.FieldError("url", "must be an http:// or https:// URL"));
        }
        if (extra != null) {
            for (String key : extra.keySet()) {
                if (RESERVED_EXTRA.contains(key)) {
                    out.add(new ApiException.FieldError("extra." + key, "is reserved"));
                }
            }
        }
    }

    /** Rules between fields, on the configuration as a whole. */
    static void whole(Config c, List<ApiException.FieldError> out) {
        boolean stdio = "stdio".equals(c.transport());
        if (stdio) {
            if (c.command() == null || c.command().isBlank()) {
                out.add(new ApiException.FieldError("command", "is required for transport stdio"));
            }
            refuse(c.url() != null, "url", "only for transport http", out);
            refuse(!c.httpHeaders().isEmpty(), "http_headers", "only for transport http", out);
            refuse(!c.headerSecrets().isEmpty(), "header_secrets", "only for transport http", out);
        } else {
            if (c.url() == null) {
                out.add(new ApiException.FieldError("url", "is required for transport http"));
            }
            refuse(c.command() != null, "command", "only for transport stdio", out);
            refuse(!c.args().isEmpty(), "args", "only for transport stdio", out);
            refuse(!c.env().isEmpty(), "env", "only for transport stdio", out);
            refuse(!c.envSecrets().isEmpty(), "env_secrets", "only for transport stdio", out);
        }
        for (String key : c.envSecrets().keySet()) {
            refuse(c.env().containsKey(key), "env_secrets." + key, "is also given in env", out);
        }
        for (String key : c.headerSecrets().keySet()) {
            refuse(c.httpHeaders().containsKey(key), "header_secrets." + key, "is also given in http_headers", out);
        }
    }

    /** Adds {@code errors} to {@code v} in path order (one field's reasons keep their order). */
    static void report(List<ApiException.FieldError> errors, Validator v) {
        for (ApiException.FieldError e : Validator.sortedByField(errors)) {
            v.add(e.field(), e.reason());
        }
    }

    static List<ApiException.FieldError> newList() {
        return new ArrayList<>();
    }

    private static void refuse(boolean when, String field, String reason, List<ApiException.FieldError> out) {
        if (when) {
            out.add(new ApiException.FieldError(field, reason));
        }
    }

    private static void names(
            String field, Map<String, String> map, Pattern rule, String reason, List<ApiException.FieldError> out) {
        if (map != null) {
            for (String key : map.keySet()) {
                if (!rule.matcher(key).matches()) {
                    out.add(new ApiException.FieldError(field + "." + key, reason));
                }
            }
        }
    }

    private static void plainValues(String field, Map<String, String> map, List<ApiException.FieldError> out) {
        if (map != null) {
            map.forEach((k, v) -> refuse(v == null, field + "." + k, "must be a string", out));
        }
    }

    private static void secretValues(
            String field, Map<String, String> map, boolean removable, List<ApiException.FieldError> out) {
        if (map != null) {
            map.forEach((k, v) -> {
                if (v == null) {
                    refuse(!removable, field + "." + k, "must be a string", out);
                } else {
                    refuse(v.isEmpty(), field + "." + k, "must not be empty", out);
                }
            });
        }
    }

    static boolean urlOk(String url) {
        try {
            URI uri = new URI(url);
            String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
            return (scheme.equals("http") || scheme.equals("https"))
                    && uri.getHost() != null
                    && !uri.getHost().isEmpty();
        } catch (URISyntaxException e) {
            return false;
        }
    }
}
