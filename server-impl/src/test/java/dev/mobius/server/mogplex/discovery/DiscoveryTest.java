package dev.mobius.server.mogplex.discovery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mobius.server.Api;
import dev.mobius.server.SharedServerTest;
import dev.mobius.server.TestServer;
import dev.mobius.server.access.AccessGuard;
import dev.mobius.server.access.PermissionCatalog;
import dev.mobius.server.access.PrincipalService;
import dev.mobius.server.access.RoleDao;
import dev.mobius.server.agents.AgentService;
import dev.mobius.server.audit.AuditTrail;
import dev.mobius.server.db.Daos;
import dev.mobius.server.ids.Ids;
import dev.mobius.server.json.Json;
import dev.mobius.server.mogplex.MogplexCaller;
import dev.mobius.server.repositories.RepositoryEnvVars;
import dev.mobius.server.secrets.Envelope;
import dev.mobius.server.secrets.MasterKeySettings;
import dev.mobius.server.secrets.MasterKeys;
import dev.mobius.server.secrets.SecretStore;
import dev.mobius.server.tenancy.ProjectDao;
import dev.mobius.server.tenancy.ProjectRow;
import dev.mobius.server.users.UserRow;
import dev.mobius.server.users.UserService;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The Mogplex discovery operations with users' personal access tokens: repositories (search,
 * limits, ids, hidden ones), agents with presets and their forks, MCP servers with their secrets
 * decrypted, repository environment variables (values stored encrypted and never returned), the
 * read and write scopes, and two users who see nothing of each other.
 */
class DiscoveryTest extends SharedServerTest {
    static final String M = "/api/v1/mogplex";
    static final ObjectMapper MAPPER = Json.newMapper();
    static UserRow alice;
    static UserRow bob;
    static String aliceToken;
    static String aliceReadOnly;
    static String aliceWriteOnly;
    static String bobToken;
    static Map<String, String> repoUuids = new LinkedHashMap<>();

    @BeforeAll
    static void users() {
        UserService users = new UserService(jdbi(), new Ids());
        alice = users.create("alice", "alice@example.com", "Alice");
        bob = users.create("bob", "bob@example.com", "Bob");
        aliceToken = users.issueToken(alice.id(), "cli", Set.of("read", "write"), null)
                .token();
        aliceReadOnly =
                users.issueToken(alice.id(), "reader", Set.of("read"), null).token();
        aliceWriteOnly =
                users.issueToken(alice.id(), "writer", Set.of("write"), null).token();
        bobToken =
                users.issueToken(bob.id(), "cli", Set.of("read", "write"), null).token();
        // The operator (the organization key) registers what users work with: it needs a role in
        // the personal project, which holds roles for its user only.
        jdbi().useTransaction(h -> {
            String bootstrap = h.createQuery(
                            "SELECT principal_id FROM api_keys WHERE scope = 'org' ORDER BY created_at LIMIT 1")
                    .mapTo(String.class)
                    .one();
            Daos.of(h, RoleDao.class)
                    .assign(
                            new Ids().next("ra"),
                            bootstrap,
                            "role_000000000000000000000admin",
                            alice.projectId(),
                            null,
                            dev.mobius.server.time.Times.now());
        });
        for (String name : List.of("acme/web", "acme/api", "acme/web_old", "acme/secret")) {
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("full_name", name);
            body.put("git_url", "https://github.com/" + name + ".git");
            body.put("default_branch", "main");
            if (name.equals("acme/secret")) {
                body.put("hidden", true);
            }
            if (name.equals("acme/api")) {
                body.put("root_directory", "services/api");
                body.put("installation_id", 9001);
            }
            Api.Reply r = api.post("/v1/projects/user-alice/repositories", TestServer.BOOTSTRAP_KEY, body);
            assertEquals(201, r.status(), r.toString());
            repoUuids.put(name, Ids.uuidOf(r.json().get("id").asText()));
        }
    }

    static Jdbi jdbi() {
        return server.server().database().jdbi();
    }

    static JsonNode ok(Api.Reply r) {
        assertEquals(200, r.status(), r.toString());
        assertTrue(r.json().get("ok").asBoolean(), r.toString());
        return r.json().get("data");
    }

    static List<String> names(JsonNode repos) {
        List<String> out = new ArrayList<>();
        repos.forEach(r -> out.add(r.get("full_name").asText()));
        return out;
    }

    // ---- repositories -------------------------------------------------------------------------

    @Test
    void reposAreSearchedLimitedAndFoundById() {
        JsonNode all = ok(api.get(M + "/repos", aliceToken)).get("repos");
        assertEquals(List.of("acme/api", "acme/web", "acme/web_old"), names(all), "by name, hidden left out");
        JsonNode api1 = all.get(0);
        assertEquals(repoUuids.get("acme/api"), api1.get("id").asText());
        assertEquals(9001, api1.get("installation_id").asLong());
        assertEquals("services/api", api1.get("root_directory").asText());
        assertTrue(all.get(1).get("installation_id").isNull(), "absent values are null, not missing");
        assertTrue(all.get(1).get("root_directory").isNull());

        assertEquals(
                List.of("acme/web", "acme/web_old"),
                names(ok(api.get(M + "/repos?q=%20WEB%20", aliceToken)).get("repos")));
        // % and _ are characters, not wildcards.
        assertEquals(
                List.of(), names(ok(api.get(M + "/repos?q=%25", aliceToken)).get("repos")));
        assertEquals(
                List.of("acme/web_old"),
                names(ok(api.get(M + "/repos?q=_", aliceToken)).get("repos")));
        assertEquals(
                List.of(), names(ok(api.get(M + "/repos?q=a_i", aliceToken)).get("repos")));
        assertEquals(3, ok(api.get(M + "/repos?q=", aliceToken)).get("repos").size(), "empty q is ignored");

        assertEquals(
                2, ok(api.get(M + "/repos?limit=2abc", aliceToken)).get("repos").size());
        assertEquals(
                1, ok(api.get(M + "/repos?limit=0", aliceToken)).get("repos").size());
        assertEquals(
                1, ok(api.get(M + "/repos?limit=-7", aliceToken)).get("repos").size());
        assertEquals(
                3, ok(api.get(M + "/repos?limit=abc", aliceToken)).get("repos").size());
        assertEquals(
                3,
                ok(api.get(M + "/repos?limit=99999", aliceToken)).get("repos").size());

        assertEquals(
                List.of("acme/web"),
                names(ok(api.get(M + "/repos?q=api&id=" + repoUuids.get("acme/web"), aliceToken))
                        .get("repos")),
                "id wins over q");
        assertEquals(
                List.of("acme/web"),
                names(ok(api.get(
                                M + "/repos?id=" + repoUuids.get("acme/web").toUpperCase(java.util.Locale.ROOT),
                                aliceToken))
                        .get("repos")));
        assertEquals(
                0, ok(api.get(M + "/repos?id=nope", aliceToken)).get("repos").size());
        assertEquals(
                0,
                ok(api.get(M + "/repos?id=" + repoUuids.get("acme/secret"), aliceToken))
                        .get("repos")
                        .size(),
                "hidden");
    }

    @Test
    void usersSeeOnlyTheirOwn() {
        assertEquals(0, ok(api.get(M + "/repos", bobToken)).get("repos").size());
        assertEquals(
                0,
                ok(api.get(M + "/repos?id=" + repoUuids.get("acme/web"), bobToken))
                        .get("repos")
                        .size());
        Api.Reply envVars = api.get(M + "/repos/" + repoUuids.get("acme/web") + "/env-vars", bobToken);
        assertEquals(404, envVars.status());
        assertEquals("Repo not found", envVars.json().at("/error/message").asText());
        Api.Reply set = api.post(
                M + "/repos/" + repoUuids.get("acme/web") + "/env-vars", bobToken, Map.of("key", "X", "value", "y"));
        assertEquals(404, set.status());
        assertEquals(0, ok(api.get(M + "/mcp/servers", bobToken)).get("servers").size());
    }

    @Test
    void scopesAreEnforcedOnEveryOperation() {
        String web = repoUuids.get("acme/web");
        for (String path : List.of("/repos", "/agents", "/models", "/mcp/servers", "/repos/" + web + "/env-vars")) {
            Api.Reply r = api.get(M + path, aliceWriteOnly);
            assertEquals(403, r.status(), path + " " + r);
            assertEquals("FORBIDDEN", r.json().at("/error/code").asText());
            assertEquals(200, api.get(M + path, aliceReadOnly).status(), path);
        }
        Api.Reply post = api.post(M + "/repos/" + web + "/env-vars", aliceReadOnly, Map.of("key", "X", "value", "y"));
        assertEquals(403, post.status());
        Api.Reply del =
                api.call("DELETE", M + "/repos/" + web + "/env-vars", aliceReadOnly, Map.of("key", "X"), Map.of());
        assertEquals(403, del.status());
        Api.Reply none = api.get(M + "/repos", null);
        assertEquals(401, none.status());
    }

    // ---- environment variables ----------------------------------------------------------------

    @Test
    void envVarsAreKeptEncryptedAndNeverReturned() throws Exception {
        String uuid = repoUuids.get("acme/api");
        String path = M + "/repos/" + uuid + "/env-vars";
        String secret = "sk_live_" + System.nanoTime();
        assertEquals(0, ok(api.get(path, aliceToken)).get("envVars").size());

        JsonNode created =
                ok(api.post(path, aliceWriteOnly, Map.of("key", " STRIPE_KEY ", "value", secret, "type", "sensitive")));
        assertEquals("created", created.get("action").asText());
        assertEquals("STRIPE_KEY", created.get("key").asText());
        assertEquals(1, created.get("updatedCount").asInt());
        ok(api.post(path, aliceToken, Map.of("key", "API_URL", "value", "https://a", "target", List.of("preview"))));
        JsonNode updated = ok(api.post(
                path,
                aliceToken,
                Map.of("key", "STRIPE_KEY", "value", secret + "-2", "target", List.of("production"), "type", "plain")));
        assertEquals("updated", updated.get("action").asText());

        Api.Reply listed = api.get(path, aliceToken);
        JsonNode vars = ok(listed).get("envVars");
        assertEquals(2, vars.size());
        assertEquals("API_URL", vars.get(0).get("key").asText());
        assertEquals("[\"preview\"]", vars.get(0).get("target").toString());
        JsonNode stripe = vars.get(1);
        assertEquals("[\"production\"]", stripe.get("target").toString(), "targets replaced");
        assertEquals("sensitive", stripe.get("type").asText(), "type kept on update");
        assertTrue(stripe.get("updatedAt").asLong() > 1_700_000_000_000L);
        assertEquals(36, stripe.get("id").asText().length());
        assertFalse(listed.raw().body().contains(secret), "a value came back");

        // What sandboxes and runs of the repository are given; at rest it is sealed.
        String repoId = Ids.typed("repo", uuid);
        RepositoryEnvVars envVars =
                new RepositoryEnvVars(jdbi(), new Ids(), store(), new AuditTrail(new Ids(), MAPPER));
        try (Handle h = jdbi().open()) {
            assertEquals(Map.of("API_URL", "https://a", "STRIPE_KEY", secret + "-2"), envVars.values(h, repoId));
            List<byte[]> sealed = h.createQuery("SELECT v.sealed_values FROM repositories r JOIN secret_versions v "
                            + "ON v.secret_id = r.env_secret_id WHERE r.id = :id")
                    .bind("id", repoId)
                    .mapTo(byte[].class)
                    .list();
            assertEquals(1, sealed.size(), "one current version, old values not kept");
            assertFalse(new String(sealed.get(0), StandardCharsets.ISO_8859_1).contains(secret));
            String audit = h.createQuery(
                            "SELECT string_agg(changes::text, ' ') FROM audit_logs WHERE resource_type = 'repository_env_var'")
                    .mapTo(String.class)
                    .one();
            assertFalse(audit.contains(secret), "the audit trail names keys, never values");
        }

        JsonNode deleted = ok(api.call("DELETE", path, aliceToken, Map.of("key", "STRIPE_KEY"), Map.of()));
        assertEquals(1, deleted.get("deletedCount").asInt());
        Api.Reply again = api.call("DELETE", path, aliceToken, Map.of("key", "STRIPE_KEY"), Map.of());
        assertEquals(404, again.status());
        assertEquals(
                "Environment variable not found",
                again.json().at("/error/message").asText());
        try (Handle h = jdbi().open()) {
            assertEquals(Map.of("API_URL", "https://a"), envVars.values(h, repoId));
        }
        // Removing the repository removes its variables and their secret.
        String secretId = jdbi().withHandle(h -> h.createQuery("SELECT env_secret_id FROM repositories WHERE id = :id")
                .bind("id", repoId)
                .mapTo(String.class)
                .one());
        assertEquals(
                204,
                api.delete("/v1/projects/user-alice/repositories/" + repoId, TestServer.BOOTSTRAP_KEY)
                        .status());
        repoUuids.remove("acme/api");
        try (Handle h = jdbi().open()) {
            assertEquals(
                    0,
                    h.createQuery("SELECT count(*) FROM secrets WHERE id = :id")
                            .bind("id", secretId)
                            .mapTo(Integer.class)
                            .one());
        }
        assertEquals(404, api.get(path, aliceToken).status());
    }

    @Test
    void envVarBodiesAreStrict() {
        String path = M + "/repos/" + repoUuids.get("acme/web") + "/env-vars";
        Map<String, Object> bad = new LinkedHashMap<>();
        bad.put("key", "9x");
        bad.put("value", 12);
        bad.put("target", List.of("production", "qa"));
        bad.put("type", "secret");
        bad.put("extra", 1);
        bad.put("more", true);
        assertEquals(
                "key: Invalid; value: Expected string, received number; target.1: Invalid enum value. Expected "
                        + "'production' | 'preview' | 'development', received 'qa'; type: Invalid enum value. Expected "
                        + "'encrypted' | 'plain' | 'sensitive', received 'secret'; body: Unrecognized key(s) in object: "
                        + "'extra', 'more'",
                badRequest(api.post(path, aliceToken, bad)));
        assertEquals("key: Required; value: Required", badRequest(api.post(path, aliceToken, Map.of())));
        assertEquals(
                "target: Array must contain at least 1 element(s)",
                badRequest(api.post(path, aliceToken, Map.of("key", "A", "value", "b", "target", List.of()))));
        assertEquals(
                "key: String must contain at most 256 character(s)",
                badRequest(api.post(path, aliceToken, Map.of("key", "A".repeat(257), "value", "b"))));
        assertEquals(
                "value: String must contain at most 65536 character(s)",
                badRequest(api.post(path, aliceToken, Map.of("key", "A", "value", "b".repeat(65_537)))));
        assertEquals("body: Expected object, received array", badRequest(api.post(path, aliceToken, List.of(1))));
        assertEquals("Invalid JSON body", badRequest(api.call("POST", path, aliceToken, "{\"key\":", Map.of())));
        assertEquals(
                "key: Expected string, received number",
                badRequest(api.call("DELETE", path, aliceToken, Map.of("key", 5), Map.of())));
        assertEquals(
                "body: Unrecognized key(s) in object: 'value'",
                badRequest(api.call("DELETE", path, aliceToken, Map.of("key", "A", "value", "x"), Map.of())));
        // The body is checked before the repository is looked up.
        assertEquals(
                "key: Required",
                badRequest(api.post(
                        M + "/repos/00000000-0000-7000-8000-000000000000/env-vars", aliceToken, Map.of("value", "x"))));
        assertEquals(
                404,
                api.post(M + "/repos/not-a-uuid/env-vars", aliceToken, Map.of("key", "A", "value", "x"))
                        .status());
    }

    static String badRequest(Api.Reply r) {
        assertEquals(400, r.status(), r.toString());
        assertEquals("BAD_REQUEST", r.json().at("/error/code").asText());
        assertEquals(Set.of("code", "message"), fieldNames(r.json().get("error")));
        return r.json().at("/error/message").asText();
    }

    static Set<String> fieldNames(JsonNode node) {
        Set<String> out = new HashSet<>();
        node.fieldNames().forEachRemaining(out::add);
        return out;
    }

    // ---- MCP servers ----------------------------------------------------------------------------

    @Test
    void mcpServersComeDecryptedInTheOrderTheyWereAdded() {
        String p = "/v1/projects/user-alice/mcp-servers";
        String token = "ghp_" + System.nanoTime();
        assertEquals(
                201,
                api.post(
                                p,
                                TestServer.BOOTSTRAP_KEY,
                                Map.of(
                                        "name",
                                        "gh",
                                        "transport",
                                        "stdio",
                                        "command",
                                        "npx",
                                        "args",
                                        List.of("-y", "gh"),
                                        "env",
                                        Map.of("HOST", "github.com"),
                                        "env_secrets",
                                        Map.of("TOKEN", token),
                                        "extra",
                                        Map.of("timeout", 5)))
                        .status());
        assertEquals(
                201,
                api.post(
                                p,
                                TestServer.BOOTSTRAP_KEY,
                                Map.of(
                                        "name",
                                        "remote",
                                        "enabled",
                                        false,
                                        "transport",
                                        "http",
                                        "url",
                                        "https://mcp.example.com",
                                        "http_headers",
                                        Map.of("X-A", "1"),
                                        "header_secrets",
                                        Map.of("Authorization", "Bearer " + token)))
                        .status());
        JsonNode servers = ok(api.get(M + "/mcp/servers", aliceReadOnly)).get("servers");
        assertEquals(2, servers.size());
        JsonNode gh = servers.get(0);
        assertEquals("gh", gh.get("name").asText());
        assertTrue(gh.get("enabled").asBoolean());
        assertEquals(5, gh.at("/config/timeout").asInt());
        assertEquals("npx", gh.at("/config/command").asText());
        assertEquals("[\"-y\",\"gh\"]", gh.at("/config/args").toString());
        assertEquals("github.com", gh.at("/config/env/HOST").asText());
        assertEquals(token, gh.at("/config/env/TOKEN").asText());
        JsonNode remote = servers.get(1);
        assertFalse(remote.get("enabled").asBoolean(), "disabled servers are listed too");
        assertEquals("https://mcp.example.com", remote.at("/config/url").asText());
        assertEquals(
                "Bearer " + token,
                remote.at("/config/http_headers/Authorization").asText());
        assertEquals("1", remote.at("/config/http_headers/X-A").asText());
        assertFalse(remote.get("config").has("command"));
    }

    // ---- agents, presets and forks --------------------------------------------------------------

    @Test
    void presetsAreShownUntilForkedAndForkedOncePerUser() throws Exception {
        PresetAgents presets = presetAgents();
        MogplexCaller caller = caller(alice);
        JsonNode before = ok(api.get(M + "/agents", aliceToken)).get("agents");
        List<String> presetIds = new ArrayList<>();
        before.forEach(a -> {
            if (a.get("preset").asBoolean()) {
                presetIds.add(a.get("id").asText());
                assertTrue(a.get("slug").isNull());
            }
        });
        assertEquals(List.of("preset:PR-REVIEWER", "preset:SECURITY-AUDITOR", "preset:DOCS-WRITER"), presetIds);

        // Racing first uses make one fork.
        ExecutorService pool = Executors.newFixedThreadPool(4);
        List<Future<String>> forks = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            forks.add(pool.submit(
                    () -> presets.resolve(caller, "preset:PR-REVIEWER").orElseThrow()));
        }
        Set<String> ids = new HashSet<>();
        for (Future<String> f : forks) {
            ids.add(f.get());
        }
        pool.shutdown();
        assertEquals(1, ids.size(), "one fork: " + ids);
        String fork = ids.iterator().next();
        assertTrue(fork.startsWith("agt_"));
        assertEquals(fork, presets.resolve(caller, "preset:PR-REVIEWER").orElseThrow(), "the same fork again");
        assertTrue(presets.resolve(caller, "preset:NOPE").isEmpty());
        assertTrue(presets.resolve(caller, "PR-REVIEWER").isEmpty(), "preset ids carry the prefix");

        JsonNode after = ok(api.get(M + "/agents", aliceToken)).get("agents");
        List<String> listed = new ArrayList<>();
        after.forEach(a -> listed.add(a.get("id").asText()));
        assertFalse(listed.contains("preset:PR-REVIEWER"), "a forked preset is no longer listed");
        JsonNode mine = null;
        for (JsonNode a : after) {
            if (a.get("id").asText().equals(Ids.uuidOf(fork))) {
                mine = a;
            }
        }
        assertTrue(mine != null, after.toString());
        assertEquals("PR Reviewer", mine.get("name").asText());
        assertEquals("code-review", mine.get("category").asText());
        assertFalse(mine.get("preset").asBoolean());
        assertEquals("anthropic/claude-sonnet-4-5", mine.get("model").asText());
        assertEquals(1, after.size() - 2 - countOwnedOtherThan(after, fork), "two presets left and the fork");

        // Another user still sees every preset; its fork is its own agent.
        List<String> bobs = new ArrayList<>();
        ok(api.get(M + "/agents", bobToken))
                .get("agents")
                .forEach(a -> bobs.add(a.get("id").asText()));
        assertTrue(bobs.contains("preset:PR-REVIEWER"));
        String bobFork = presets.resolve(caller(bob), "preset:PR-REVIEWER").orElseThrow();
        assertNotEquals(fork, bobFork);

        // Deleting the fork frees the preset; the next use makes a new fork.
        assertEquals(
                204,
                api.delete("/v1/projects/user-alice/agents/" + fork, TestServer.BOOTSTRAP_KEY)
                        .status());
        List<String> again = new ArrayList<>();
        ok(api.get(M + "/agents", aliceToken))
                .get("agents")
                .forEach(a -> again.add(a.get("id").asText()));
        assertTrue(again.contains("preset:PR-REVIEWER"));
        String second = presets.resolve(caller, "preset:PR-REVIEWER").orElseThrow();
        assertNotEquals(fork, second);
    }

    static int countOwnedOtherThan(JsonNode agents, String fork) {
        int n = 0;
        for (JsonNode a : agents) {
            if (!a.get("preset").asBoolean() && !a.get("id").asText().equals(Ids.uuidOf(fork))) {
                n++;
            }
        }
        return n;
    }

    // ---- helpers ------------------------------------------------------------------------------

    static PresetAgents presetAgents() {
        Ids ids = new Ids();
        AuditTrail audit = new AuditTrail(ids, MAPPER);
        AccessGuard guard = new AccessGuard(PermissionCatalog.load(MAPPER));
        AgentService agents = new AgentService(
                jdbi(), ids, MAPPER, audit, guard, new PrincipalService(jdbi(), ids, MAPPER, audit, guard));
        return new PresetAgents(jdbi(), PresetCatalog.load(MAPPER, null), agents);
    }

    static MogplexCaller caller(UserRow user) {
        ProjectRow project = jdbi().withHandle(h -> Daos.of(h, ProjectDao.class)
                .findByRef(user.orgId(), user.projectId())
                .orElseThrow());
        return new MogplexCaller(
                user.id(),
                user.username(),
                user.principalId(),
                user.orgId(),
                project,
                "test",
                Set.of("read", "write"),
                "127.0.0.1",
                "test",
                "req_test");
    }

    static SecretStore store() throws java.io.IOException {
        return new SecretStore(
                new Ids(), new Envelope(MasterKeys.load(MasterKeySettings.DEFAULTS, server.dataDir(), true), MAPPER));
    }
}
