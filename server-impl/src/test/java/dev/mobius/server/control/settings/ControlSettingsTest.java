package dev.mobius.server.control.settings;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mobius.server.Api;
import dev.mobius.server.TestServer;
import dev.mobius.server.agents.ModelSettings;
import dev.mobius.server.ids.Ids;
import dev.mobius.server.users.UserRow;
import dev.mobius.server.users.UserService;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code /api/settings} and {@code /api/models} on a server with platform models: the usable
 * default, the theme and its cookie, the enablement rules (preference, new models while automatic
 * enabling is off, availability), the three shapes, the refusal of catalogue fields, scopes and
 * isolation between users.
 */
class ControlSettingsTest {
    static TestServer server;
    static Api api;
    static UserService users;

    @BeforeAll
    static void start() {
        ModelSettings models = ModelSettings.parse(
                "openai/gpt-4o,anthropic/claude-sonnet-4,zeta/z-1,zeta/z-hidden", "openai/gpt-4o", null, Map.of());
        server = TestServer.with(c -> c.withModels(models));
        api = new Api(server.baseUrl());
        users = new UserService(jdbi(), new Ids());
        // What the operator says of the models (first offered long ago).
        jdbi().useHandle(h -> h.execute("INSERT INTO model_catalog (model_id, name, context_length, pricing_input,"
                + " pricing_output, capabilities, is_hidden, created_at) VALUES"
                + " ('anthropic/claude-sonnet-4', 'Claude Sonnet 4', 200000, 0.000003, 0.000015,"
                + " ARRAY['Tool_Use', 'VISION', 'reasoning'], false, now() - interval '30 days'),"
                + " ('openai/gpt-4o', NULL, 128000, 0.0000025, NULL, ARRAY['tools', 'audio-input'], false,"
                + " now() - interval '30 days'),"
                + " ('zeta/z-1', 'Z One', NULL, NULL, NULL, '{}', false, now() - interval '30 days'),"
                + " ('zeta/z-hidden', NULL, NULL, NULL, NULL, '{}', true, now() - interval '30 days')"));
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    static Jdbi jdbi() {
        return server.server().database().jdbi();
    }

    record Person(UserRow user, String token, String readOnly, String writeOnly) {}

    static Person person(String name) {
        UserRow u = users.create(name, name + "@example.com", name);
        return new Person(
                u,
                users.issueToken(u.id(), "all", Set.of("read", "write"), null).token(),
                users.issueToken(u.id(), "reader", Set.of("read"), null).token(),
                users.issueToken(u.id(), "writer", Set.of("write"), null).token());
    }

    static JsonNode ok(Api.Reply r) {
        assertEquals(200, r.status(), r.toString());
        return r.json();
    }

    static void refused(Api.Reply r, int status, String message) {
        assertEquals(status, r.status(), r.toString());
        assertEquals(message, r.json().get("error").asText(), r.toString());
    }

    static Map<String, JsonNode> byId(JsonNode list) {
        Map<String, JsonNode> out = new LinkedHashMap<>();
        list.forEach(
                m -> out.put(m.has("id") ? m.get("id").asText() : m.get("slug").asText(), m));
        return out;
    }

    @Test
    void settingsResolveTheDefaultAndChangeByTheRules() {
        Person alice = person("alice");
        Person bob = person("bob");
        Api.Reply first = api.get("/api/settings", alice.token());
        JsonNode settings = ok(first);
        assertEquals("openai/gpt-4o", settings.get("default_model").asText(), "the configured default is usable");
        assertEquals("system", settings.get("theme").asText());
        assertEquals("mogplex-theme=system; Path=/; Max-Age=31536000; SameSite=Lax", first.header("Set-Cookie"));

        Api.Reply changed =
                api.patch("/api/settings", alice.token(), Map.of("default_model", "zeta/z-1", "theme", "light"));
        assertEquals(
                Map.of("ok", true),
                new com.fasterxml.jackson.databind.ObjectMapper().convertValue(ok(changed), Map.class));
        assertEquals("mogplex-theme=light; Path=/; Max-Age=31536000; SameSite=Lax", changed.header("Set-Cookie"));
        settings = ok(api.get("/api/settings", alice.token()));
        assertEquals("zeta/z-1", settings.get("default_model").asText());
        assertEquals("light", settings.get("theme").asText());
        // Bob's settings are his own.
        settings = ok(api.get("/api/settings", bob.token()));
        assertEquals("openai/gpt-4o", settings.get("default_model").asText());
        assertEquals("system", settings.get("theme").asText());

        refused(api.patch("/api/settings", alice.token(), Map.of("theme", "purple")), 400, "No valid fields");
        refused(api.patch("/api/settings", alice.token(), List.of("theme")), 400, "No valid fields");
        refused(api.patch("/api/settings", alice.token(), Map.of()), 400, "No valid fields");
        refused(
                api.patch("/api/settings", alice.token(), Map.of("default_model", "nobody/offers-this")),
                400,
                "default_model must be enabled and available");
        refused(
                api.patch("/api/settings", alice.token(), Map.of("default_model", "zeta/z-hidden")),
                400,
                "default_model must be enabled and available");
        // An ignored theme beside a valid model: only the model changes.
        ok(api.patch("/api/settings", alice.token(), Map.of("default_model", "openai/gpt-4o", "theme", "neon")));
        settings = ok(api.get("/api/settings", alice.token()));
        assertEquals("openai/gpt-4o", settings.get("default_model").asText());
        assertEquals("light", settings.get("theme").asText());

        // Scopes: a read needs read, a change write; no identity is 401.
        refused(
                api.patch("/api/settings", alice.readOnly(), Map.of("theme", "dark")),
                403,
                "This token does not have the 'write' scope.");
        refused(api.get("/api/settings", alice.writeOnly()), 403, "This token does not have the 'read' scope.");
        refused(api.get("/api/settings", null), 401, "Unauthorized");
        refused(api.get("/api/settings", "mog_NotALiveToken0000000000000000000"), 401, "Unauthorized");
        assertEquals(
                "light",
                ok(api.get("/api/settings", alice.readOnly())).get("theme").asText());
    }

    @Test
    void aStoredDefaultThatIsNoLongerUsableFallsBack() {
        Person carol = person("carol");
        ok(api.patch("/api/settings", carol.token(), Map.of("default_model", "anthropic/claude-sonnet-4")));
        ok(api.patch(
                "/api/models", carol.token(), Map.of("model_id", "anthropic/claude-sonnet-4", "is_enabled", false)));
        assertEquals(
                "openai/gpt-4o",
                ok(api.get("/api/settings", carol.token())).get("default_model").asText());
        ok(api.patch("/api/models", carol.token(), Map.of("model_id", "openai/gpt-4o", "is_enabled", false)));
        assertEquals(
                "zeta/z-1",
                ok(api.get("/api/settings", carol.token())).get("default_model").asText(),
                "the first usable model by provider, then id");
    }

    @Test
    void enablementFollowsPreferenceThenNewModelPolicyThenAvailability() {
        Person dave = person("dave");
        JsonNode all = ok(api.get("/api/models", dave.token()));
        Map<String, JsonNode> catalog = byId(all.get("catalog"));
        assertEquals(
                List.of("anthropic/claude-sonnet-4", "openai/gpt-4o", "zeta/z-1", "zeta/z-hidden"),
                new ArrayList<>(catalog.keySet()));
        catalog.values().forEach(m -> assertTrue(m.get("is_enabled").asBoolean(), m.toString()));
        assertEquals(
                List.of("anthropic/claude-sonnet-4", "openai/gpt-4o", "zeta/z-1"),
                new ArrayList<>(byId(all.get("models")).keySet()),
                "pickers leave hidden models out");

        // Automatic enabling off: a model first offered after the user last looked is disabled.
        jdbi().useHandle(h -> {
            h.createUpdate("UPDATE users SET auto_enable_new_models = false, models_seen_at = now() - interval '1 day'"
                            + " WHERE id = :u")
                    .bind("u", dave.user().id())
                    .execute();
            h.execute("UPDATE model_catalog SET created_at = now() WHERE model_id = 'zeta/z-1'");
        });
        catalog = byId(ok(api.get("/api/models", dave.token())).get("catalog"));
        assertFalse(catalog.get("zeta/z-1").get("is_enabled").asBoolean(), "new since the user looked");
        assertTrue(catalog.get("openai/gpt-4o").get("is_enabled").asBoolean(), "older than the user's look");
        // Never looked: every model without a preference is new to the user.
        jdbi().useHandle(h -> h.createUpdate("UPDATE users SET models_seen_at = NULL WHERE id = :u")
                .bind("u", dave.user().id())
                .execute());
        catalog = byId(ok(api.get("/api/models", dave.token())).get("catalog"));
        catalog.values().forEach(m -> assertFalse(m.get("is_enabled").asBoolean(), m.toString()));
        // An explicit preference wins over the policy.
        ok(api.patch("/api/models", dave.token(), Map.of("model_id", "zeta/z-1", "is_enabled", true)));
        catalog = byId(ok(api.get("/api/models", dave.token())).get("catalog"));
        assertTrue(catalog.get("zeta/z-1").get("is_enabled").asBoolean());
        assertFalse(catalog.get("openai/gpt-4o").get("is_enabled").asBoolean());
        // Another user's rules are untouched.
        Person erin = person("erin");
        byId(ok(api.get("/api/models", erin.token())).get("catalog"))
                .values()
                .forEach(m -> assertTrue(m.get("is_enabled").asBoolean(), m.toString()));

        // Availability: a model the user chose once that nobody offers any more stays in the
        // catalogue, unavailable, and cannot be the default; without a preference it is disabled.
        jdbi().useHandle(h -> {
            h.execute("INSERT INTO model_catalog (model_id) VALUES ('retired/r-1')");
            h.createUpdate("INSERT INTO user_model_preferences (user_id, model_id, is_enabled, updated_at)"
                            + " VALUES (:u, 'retired/r-1', true, now())")
                    .bind("u", erin.user().id())
                    .execute();
        });
        JsonNode erinModels = ok(api.get("/api/models", erin.token()));
        JsonNode retired = byId(erinModels.get("catalog")).get("retired/r-1");
        assertFalse(retired.get("is_available").asBoolean());
        assertTrue(retired.get("is_enabled").asBoolean(), "the explicit preference is what it says");
        assertFalse(byId(erinModels.get("models")).containsKey("retired/r-1"));
        refused(
                api.patch("/api/settings", erin.token(), Map.of("default_model", "retired/r-1")),
                400,
                "default_model must be enabled and available");
        assertFalse(
                byId(ok(api.get("/api/models", dave.token())).get("catalog")).containsKey("retired/r-1"),
                "another user's choices do not reach dave's catalogue");
    }

    @Test
    void shapesForPeopleTheCliAndAnonymousCallers() {
        Person fay = person("fay");
        JsonNode all = ok(api.get("/api/models", fay.token()));
        assertEquals("openai/gpt-4o", all.get("default_model").asText());
        JsonNode claude = byId(all.get("catalog")).get("anthropic/claude-sonnet-4");
        assertEquals("anthropic", claude.get("provider").asText());
        assertEquals("Claude Sonnet 4", claude.get("name").asText());
        assertEquals(200000, claude.get("context_length").asInt());
        assertEquals(0, claude.get("pricing_input").decimalValue().compareTo(new java.math.BigDecimal("0.000003")));
        assertFalse(claude.has("created_at"), "the first-offered time is not shown");
        JsonNode z = byId(all.get("catalog")).get("zeta/z-hidden");
        assertEquals("z-hidden", z.get("name").asText(), "without a name, the model part of the id");
        assertTrue(z.get("context_length").isNull());
        assertTrue(z.get("is_hidden").asBoolean());

        JsonNode cli = ok(api.get("/api/models?format=cli", fay.token()));
        assertTrue(cli.isArray());
        Map<String, JsonNode> list = byId(cli);
        assertEquals(List.of("anthropic/claude-sonnet-4", "openai/gpt-4o", "zeta/z-1"), new ArrayList<>(list.keySet()));
        JsonNode c = list.get("anthropic/claude-sonnet-4");
        assertEquals("Claude Sonnet 4", c.get("displayName").asText());
        assertEquals(200000, c.get("contextWindow").asInt());
        assertEquals("[\"text\",\"image\"]", c.get("inputModalities").toString());
        assertEquals(
                "{\"toolUse\":true,\"streaming\":true,\"reasoningEffort\":true,\"parallelToolCalls\":true}",
                c.get("caps").toString());
        assertEquals(3, c.at("/pricing/inputPerMillion").asDouble(), 0);
        assertEquals(15, c.at("/pricing/outputPerMillion").asDouble(), 0);
        assertEquals("USD", c.at("/pricing/currency").asText());
        JsonNode g = list.get("openai/gpt-4o");
        assertEquals("[\"text\",\"audio\"]", g.get("inputModalities").toString());
        assertTrue(g.at("/caps/toolUse").asBoolean());
        assertFalse(g.at("/caps/reasoningEffort").asBoolean());
        assertFalse(g.has("pricing"), "only one price is known");
        JsonNode zOne = list.get("zeta/z-1");
        assertFalse(zOne.has("contextWindow"));
        assertEquals("[\"text\"]", zOne.get("inputModalities").toString());
        assertFalse(zOne.at("/caps/toolUse").asBoolean());
        // Disabled models leave the CLI list.
        ok(api.patch("/api/models", fay.token(), Map.of("model_id", "zeta/z-1", "is_enabled", false)));
        assertFalse(byId(ok(api.get("/api/models?format=cli", fay.token()))).containsKey("zeta/z-1"));

        JsonNode anonymous = ok(api.get("/api/models", null));
        assertEquals(List.of("models", "catalog"), fieldNames(anonymous));
        assertEquals(
                List.of("anthropic/claude-sonnet-4", "openai/gpt-4o", "zeta/z-1"),
                new ArrayList<>(byId(anonymous.get("catalog")).keySet()));
        assertEquals(anonymous.get("models"), anonymous.get("catalog"));
        anonymous.get("models").forEach(m -> assertFalse(m.has("is_enabled")));
        assertEquals(3, ok(api.get("/api/models?format=cli", null)).size());
        refused(api.get("/api/models", "mog_NotALiveToken0000000000000000000"), 401, "Unauthorized");
        refused(api.get("/api/models", fay.writeOnly()), 403, "This token does not have the 'read' scope.");
    }

    @Test
    void preferencesRefuseCatalogueFieldsAndNeedWrite() {
        Person gus = person("gus");
        for (String field : List.of(
                "provider",
                "name",
                "context_length",
                "capabilities",
                "is_available",
                "is_hidden",
                "pricing_input",
                "pricing_output")) {
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("model_id", "openai/gpt-4o");
            body.put("is_enabled", true);
            body.put(field, "x");
            refused(api.patch("/api/models", gus.token(), body), 400, "Catalog fields cannot be changed");
        }
        refused(
                api.patch("/api/models", gus.token(), Map.of("model_id", "openai/gpt-4o")),
                400,
                "model_id and is_enabled are required");
        refused(
                api.patch("/api/models", gus.token(), Map.of("model_id", "openai/gpt-4o", "is_enabled", "no")),
                400,
                "model_id and is_enabled are required");
        refused(
                api.patch("/api/models", gus.token(), Map.of("model_id", "nobody/x", "is_enabled", true)),
                404,
                "Model not found");
        refused(
                api.patch("/api/models", gus.readOnly(), Map.of("model_id", "openai/gpt-4o", "is_enabled", false)),
                403,
                "This token does not have the 'write' scope.");
        refused(
                api.patch("/api/models", null, Map.of("model_id", "openai/gpt-4o", "is_enabled", false)),
                401,
                "Unauthorized");
        assertTrue(
                byId(ok(api.get("/api/models", gus.token())).get("catalog"))
                        .get("openai/gpt-4o")
                        .get("is_enabled")
                        .asBoolean(),
                "nothing was recorded");
        ok(api.patch("/api/models", gus.writeOnly(), Map.of("model_id", "openai/gpt-4o", "is_enabled", false)));
        assertFalse(byId(ok(api.get("/api/models", gus.token())).get("catalog"))
                .get("openai/gpt-4o")
                .get("is_enabled")
                .asBoolean());
        Integer rows = jdbi().withHandle(
                        h -> h.createQuery("SELECT count(*) FROM model_catalog WHERE pricing_input IS NOT NULL")
                                .mapTo(Integer.class)
                                .one());
        assertEquals(2, rows, "the catalogue itself is unchanged");
    }

    static List<String> fieldNames(JsonNode node) {
        List<String> names = new ArrayList<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }
}
