package dev.mobius.server.control.sessions;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mobius.server.control.ControlException;
import dev.mobius.server.ids.Ids;
import dev.mobius.server.time.Times;
import dev.mobius.server.users.UserService;
import dev.mobius.server.users.UserTokenRow;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The session's management of its user's personal access tokens, on {@link UserService}'s token
 * rows: listing the unrevoked ones, issuing, revoking (never deleting).
 */
public final class ApiKeyService {
    private static final List<String> ALLOWED = List.of("read", "write");

    private final UserService users;

    public ApiKeyService(UserService users) {
        this.users = users;
    }

    public Map<String, Object> list(String userId) {
        List<Map<String, Object>> keys = users.tokens(userId).stream()
                .filter(t -> t.revokedAt() == null)
                .sorted(Comparator.comparing(UserTokenRow::createdAt)
                        .thenComparing(UserTokenRow::id)
                        .reversed())
                .map(ApiKeyService::view)
                .toList();
        return Map.of("keys", keys);
    }

    public Map<String, Object> create(String userId, JsonNode body) {
        if (body == null || !body.isObject()) {
            throw ControlException.badRequest("Invalid JSON body");
        }
        JsonNode nameNode = body.get("name");
        String name =
                nameNode != null && nameNode.isTextual() ? nameNode.asText().strip() : "";
        if (name.isEmpty() || name.length() > 100) {
            throw ControlException.badRequest("name must be 1 to 100 characters");
        }
        Set<String> scopes = new LinkedHashSet<>();
        JsonNode scopesNode = body.get("scopes");
        if (scopesNode == null || scopesNode.isNull()) {
            scopes.addAll(ALLOWED);
        } else if (!scopesNode.isArray()) {
            throw ControlException.badRequest("scopes must be an array");
        } else if (scopesNode.isEmpty()) {
            throw ControlException.badRequest("scopes must not be empty");
        } else {
            for (JsonNode s : scopesNode) {
                // The message names what is allowed, never what was sent.
                if (!s.isTextual() || !ALLOWED.contains(s.asText())) {
                    throw ControlException.badRequest("scopes may only contain: read, write");
                }
                scopes.add(s.asText());
            }
        }
        OffsetDateTime expiresAt = null;
        JsonNode days = body.get("expiresInDays");
        if (days != null && !days.isNull()) {
            if (!days.isNumber()) {
                throw ControlException.badRequest("expiresInDays must be a number");
            }
            double n = days.asDouble();
            if (n > 0) {
                // Whole days only, as the hosted service's Date.setDate does: 0.5 expires at once.
                long whole = (long) Math.min(Math.floor(n), 36_500);
                expiresAt = Times.now().plusDays(whole);
            }
        }
        UserService.IssuedToken issued = users.issueToken(userId, name, scopes, expiresAt);
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("id", Ids.uuidOf(issued.row().id()));
        out.put("token", issued.token());
        out.put("prefix", issued.row().tokenPrefix());
        out.put("scopes", new ArrayList<>(scopes));
        out.put("expiresAt", time(expiresAt));
        return out;
    }

    public Map<String, Object> revoke(String userId, String id) {
        String typed = Ids.typed("pat", id);
        if (typed == null || !users.revokeToken(userId, typed)) {
            throw ControlException.notFound("API key not found");
        }
        return Map.of("ok", true);
    }

    private static Map<String, Object> view(UserTokenRow t) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("id", Ids.uuidOf(t.id()));
        out.put("name", t.name());
        out.put("prefix", t.tokenPrefix());
        out.put("scopes", List.of(t.scopes().split(",")));
        out.put("createdAt", time(t.createdAt()));
        out.put("lastUsedAt", time(t.lastUsedAt()));
        out.put("expiresAt", time(t.expiresAt()));
        return out;
    }

    static String time(OffsetDateTime t) {
        return t == null
                ? null
                : t.withOffsetSameInstant(ZoneOffset.UTC)
                        .truncatedTo(ChronoUnit.MILLIS)
                        .format(DateTimeFormatter.ISO_OFFSET_DATE_TIME)
                        .replace("+00:00", "Z");
    }
}
