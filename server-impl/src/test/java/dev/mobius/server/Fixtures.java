package dev.mobius.server;

import java.util.List;
import java.util.Map;

/** Creates the usual things through the public API and returns what tests need of them. */
public final class Fixtures {
    private final Api api;
    private final String orgKey;

    public Fixtures(Api api, String orgKey) {
        this.api = api;
        this.orgKey = orgKey;
    }

    public record Key(String id, String principalId, String raw) {}

    public String project(String name) {
        Api.Reply r = api.post("/v1/projects", orgKey, Map.of("name", name));
        if (r.status() != 201) {
            throw new IllegalStateException("create project: " + r);
        }
        return r.json().get("handle").asText();
    }

    public static final String OWNER = "role_000000000000000000000owner";

    public String principal(String project, String name) {
        return principal(project, name, List.of());
    }

    /** A service principal holding the given role ids in {@code project}. */
    public String principal(String project, String name, List<String> roleIds) {
        Api.Reply r = api.post(
                "/v1/projects/" + project + "/principals",
                orgKey,
                roleIds.isEmpty() ? Map.of("name", name) : Map.of("name", name, "role_ids", roleIds));
        if (r.status() != 201) {
            throw new IllegalStateException("create principal: " + r);
        }
        return r.json().get("id").asText();
    }

    /** A principal named {@code name} holding Owner in {@code project}, and a project key for it. */
    public Key key(String project, String name) {
        return key(project, name, List.of(OWNER));
    }

    /** A principal holding exactly {@code roleIds} (possibly none), and a project key for it. */
    public Key key(String project, String name, List<String> roleIds) {
        String principal = principal(project, name, roleIds);
        Api.Reply r = api.post(
                "/v1/projects/" + project + "/api-keys",
                orgKey,
                Map.of("name", name + "-key", "principal_id", principal));
        if (r.status() != 201) {
            throw new IllegalStateException("create key: " + r);
        }
        return new Key(
                r.json().get("id").asText(), principal, r.json().get("key").asText());
    }
}
