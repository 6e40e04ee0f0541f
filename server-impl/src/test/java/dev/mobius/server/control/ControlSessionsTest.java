package dev.mobius.server.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mobius.server.Api;
import dev.mobius.server.SharedServerTest;
import dev.mobius.server.TestServer;
import dev.mobius.server.control.sessions.LoginService;
import dev.mobius.server.control.sessions.Passwords;
import dev.mobius.server.control.sessions.SessionStore;
import dev.mobius.server.ids.Ids;
import dev.mobius.server.users.UserService;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The local login and what a session reaches, against a real server: cookies, CSRF, the signed-in
 * user, personal access token management (§2.5) and its isolation between users.
 */
class ControlSessionsTest extends SharedServerTest {
    static final String PASSWORD = "correct horse battery staple";

    /** A signed-in browser: the cookie value and the CSRF token. */
    record Session(String cookie, String csrf) {
        Map<String, String> headers(boolean withCsrf) {
            Map<String, String> h = new HashMap<>();
            h.put("Cookie", "mobius_session=" + cookie);
            if (withCsrf) {
                h.put("X-CSRF-Token", csrf);
            }
            return h;
        }
    }

    @BeforeAll
    static void users() {
        UserService users = new UserService(server.server().database().jdbi(), new Ids());
        users.create("bob", "bob@example.com", "Bob");
        users.create("carol", null, "Carol");
        users.create("dave", null, "Dave, who has no password");
        users.create("erin", null, "Erin");
        LoginService logins = logins();
        logins.setPassword("admin", PASSWORD);
        logins.setPassword("bob", "bobs password");
        logins.setPassword("carol", "carols password");
        logins.setPassword("erin", "erins password");
    }

    static LoginService logins() {
        return new LoginService(
                server.server().database().jdbi(),
                new Passwords(),
                new SessionStore(server.server().database().jdbi(), new Ids()),
                0,
                0);
    }

    static Api.Reply login(String username, String password) {
        return api.call("POST", "/api/auth/login", null, Map.of("username", username, "password", password), Map.of());
    }

    static Session session(String username, String password) {
        Api.Reply r = login(username, password);
        assertEquals(200, r.status(), r.toString());
        String cookie = r.header("Set-Cookie");
        String value = cookie.substring("mobius_session=".length(), cookie.indexOf(';'));
        return new Session(value, r.json().get("csrf_token").asText());
    }

    static Api.Reply call(String method, String path, Session s, boolean csrf, Object body) {
        return api.call(method, path, null, body, s.headers(csrf));
    }

    @Test
    void loginSetsAHardenedCookieAndAnswersTheUser() {
        Api.Reply r = login("admin", PASSWORD);
        assertEquals(200, r.status(), r.toString());
        String cookie = r.header("Set-Cookie");
        assertTrue(cookie.startsWith("mobius_session="), cookie);
        assertTrue(cookie.contains("; HttpOnly"), cookie);
        assertTrue(cookie.contains("; SameSite=Lax"), cookie);
        assertTrue(cookie.contains("; Path=/"), cookie);
        assertFalse(cookie.contains("Secure"), "plain HTTP: no Secure attribute: " + cookie);
        assertEquals(43, cookie.substring(15, cookie.indexOf(';')).length(), "256 random bits, base64url");
        JsonNode body = r.json();
        assertEquals("admin", body.get("user").get("username").asText());
        assertEquals(
                body.get("csrf_token").asText(),
                body.get("user").get("csrf_token").asText());
        // The session is stored as the hash of its token only.
        String token = cookie.substring(15, cookie.indexOf(';'));
        long plain = server.server()
                .database()
                .jdbi()
                .withHandle(h -> h.createQuery("SELECT count(*) FROM control_sessions WHERE token_hash = :t")
                        .bind("t", token)
                        .mapTo(Long.class)
                        .one());
        assertEquals(0, plain);

        // Behind a TLS-terminating proxy the cookie is Secure.
        Api.Reply tls = api.call(
                "POST",
                "/api/auth/login",
                null,
                Map.of("username", "admin", "password", PASSWORD),
                Map.of("X-Forwarded-Proto", "https"));
        assertTrue(tls.header("Set-Cookie").contains("; Secure"), tls.header("Set-Cookie"));

        // By email too.
        assertEquals(200, login("bob@example.com", "bobs password").status());
    }

    @Test
    void wrongCredentialsGetOneAnswer() {
        Api.Reply wrong = login("admin", "not it");
        Api.Reply unknown = login("nobody-here", "whatever");
        Api.Reply noPassword = login("dave", "whatever");
        for (Api.Reply r : List.of(wrong, unknown, noPassword)) {
            assertEquals(401, r.status(), r.toString());
            assertEquals("Invalid username or password", r.json().get("error").asText());
            assertEquals(null, r.header("Set-Cookie"));
        }
        Api.Reply malformed = api.call("POST", "/api/auth/login", null, Map.of("username", "admin"), Map.of());
        assertEquals(400, malformed.status(), malformed.toString());
        assertEquals(
                "username and password are required",
                malformed.json().get("error").asText());
        Api.Reply number = api.call("POST", "/api/auth/login", null, Map.of("username", 12, "password", "x"), Map.of());
        assertEquals(400, number.status());
    }

    @Test
    void attemptsAreLimitedPerUsername() {
        for (int i = 0; i < 10; i++) {
            assertEquals(401, login("carol", "wrong " + i).status());
        }
        Api.Reply limited = login("carol", "carols password");
        assertEquals(429, limited.status(), limited.toString());
        long retry = Long.parseLong(limited.header("Retry-After"));
        assertTrue(retry >= 1 && retry <= 60, "Retry-After " + retry);
        assertEquals(
                "Too many login attempts. Retry after " + retry + "s.",
                limited.json().get("error").asText());
        // Another user is not held up by carol's attempts.
        assertEquals(200, login("bob", "bobs password").status());
    }

    @Test
    void csrfGuardsEveryStateChangingSessionRequest() {
        Session s = session("admin", PASSWORD);
        Api.Reply missing = call("POST", "/api/settings/api-keys", s, false, Map.of("name", "x"));
        assertEquals(403, missing.status(), missing.toString());
        assertEquals("Invalid CSRF token", missing.json().get("error").asText());
        Map<String, String> wrongHeaders = s.headers(false);
        wrongHeaders.put("X-CSRF-Token", s.csrf().substring(1) + "A");
        Api.Reply wrong = api.call("POST", "/api/settings/api-keys", null, Map.of("name", "x"), wrongHeaders);
        assertEquals(403, wrong.status(), wrong.toString());
        Api.Reply deleteWithout =
                call("DELETE", "/api/settings/api-keys/" + java.util.UUID.randomUUID(), s, false, null);
        assertEquals(403, deleteWithout.status());
        // Reads need none; with the token the change goes through.
        assertEquals(200, call("GET", "/api/settings/api-keys", s, false, null).status());
        Api.Reply ok = call("POST", "/api/settings/api-keys", s, true, Map.of("name", "x"));
        assertEquals(200, ok.status(), ok.toString());
        // A token-authenticated change needs no CSRF token (no cookie rides along with it).
        Api.Reply tokenRead = api.get("/api/auth/user", TestServer.MOGPLEX_TOKEN);
        assertEquals(200, tokenRead.status());
    }

    @Test
    void aPersonalAccessTokenIsNoIdentityForTokenManagement() {
        for (String[] route : new String[][] {
            {"GET", "/api/settings/api-keys"},
            {"POST", "/api/settings/api-keys"},
            {"DELETE", "/api/settings/api-keys/x"}
        }) {
            Api.Reply r = api.call(
                    route[0],
                    route[1],
                    TestServer.MOGPLEX_TOKEN,
                    route[0].equals("POST") ? Map.of("name", "x") : null,
                    Map.of());
            assertEquals(401, r.status(), route[1] + ": " + r);
            assertEquals("Unauthorized", r.json().get("error").asText());
        }
        assertEquals(401, api.get("/api/settings/api-keys", null).status());
    }

    @Test
    void theSignedInUserByTokenBySessionAndNobody() {
        Api.Reply anonymous = api.get("/api/auth/user", null);
        assertEquals(
                200,
                anonymous.status(),
                anonymous.toString() + anonymous.raw().headers().map());
        assertTrue(anonymous.json().get("user").isNull());
        Api.Reply madeUp = api.get("/api/auth/user", "mog_NoSuchToken00000000000000000000");
        assertTrue(madeUp.json().get("user").isNull(), madeUp.toString());

        Api.Reply byToken = api.get("/api/auth/user", TestServer.MOGPLEX_TOKEN);
        JsonNode user = byToken.json().get("user");
        assertEquals("admin", user.get("username").asText());
        assertEquals("disconnected", user.get("github_state").asText());
        assertFalse(user.get("github_app_available").asBoolean());
        assertFalse(user.has("csrf_token"), "a token caller gets no CSRF token");

        Session s = session("bob", "bobs password");
        JsonNode bob = call("GET", "/api/auth/user", s, false, null).json().get("user");
        assertEquals("bob", bob.get("username").asText());
        assertEquals("bob@example.com", bob.get("email").asText());
        assertEquals(s.csrf(), bob.get("csrf_token").asText());
    }

    @Test
    void logoutEndsTheSessionOnEveryNode() {
        Session s = session("bob", "bobs password");
        assertEquals(200, call("GET", "/api/settings/api-keys", s, false, null).status());
        assertEquals(403, call("POST", "/api/auth/logout", s, false, null).status(), "logout needs its CSRF token");
        Api.Reply out = call("POST", "/api/auth/logout", s, true, null);
        assertEquals(200, out.status(), out.toString());
        assertTrue(out.header("Set-Cookie").contains("Max-Age=0"), out.header("Set-Cookie"));
        assertEquals(401, call("GET", "/api/settings/api-keys", s, false, null).status());
        assertTrue(
                call("GET", "/api/auth/user", s, false, null).json().get("user").isNull());
        // Without a session, logout still answers ok.
        assertEquals(200, api.post("/api/auth/logout", null, null).status());
    }

    @Test
    void apiKeysFollowTheRules() {
        Session s = session("erin", "erins password");
        Api.Reply defaults = call("POST", "/api/settings/api-keys", s, true, Map.of("name", "  laptop  "));
        assertEquals(200, defaults.status(), defaults.toString());
        JsonNode created = defaults.json();
        assertEquals(List.of("read", "write"), strings(created.get("scopes")));
        assertTrue(created.get("expiresAt").isNull());
        String token = created.get("token").asText();
        assertTrue(UserService.isWellFormed(token));
        assertEquals(token.substring(0, 12), created.get("prefix").asText());
        // The new token works on the Mogplex API.
        assertEquals(200, api.get("/api/v1/mogplex/repos", token).status());

        Api.Reply dup = call(
                "POST", "/api/settings/api-keys", s, true, Map.of("name", "ro", "scopes", List.of("read", "read")));
        assertEquals(List.of("read"), strings(dup.json().get("scopes")));

        assertError(
                call("POST", "/api/settings/api-keys", s, true, Map.of("name", "x", "scopes", List.of())),
                400,
                "scopes must not be empty");
        Api.Reply unknown =
                call("POST", "/api/settings/api-keys", s, true, Map.of("name", "x", "scopes", List.of("sekrit-admin")));
        assertError(unknown, 400, "scopes may only contain: read, write");
        assertFalse(unknown.raw().body().contains("sekrit"), "the input is not echoed");
        assertError(
                call("POST", "/api/settings/api-keys", s, true, Map.of("name", "x", "scopes", "read")),
                400,
                "scopes must be an array");
        assertError(
                call("POST", "/api/settings/api-keys", s, true, Map.of("name", "   ")),
                400,
                "name must be 1 to 100 characters");
        assertError(
                call("POST", "/api/settings/api-keys", s, true, Map.of("name", "n".repeat(101))),
                400,
                "name must be 1 to 100 characters");

        // Whole days: 1.9 is one day; 0.5 expires at once; 0 and negative never expire.
        OffsetDateTime before = OffsetDateTime.now();
        JsonNode day = call("POST", "/api/settings/api-keys", s, true, Map.of("name", "d", "expiresInDays", 1.9))
                .json();
        OffsetDateTime expires = OffsetDateTime.parse(day.get("expiresAt").asText());
        assertTrue(
                Duration.between(before, expires).toHours() >= 23
                        && Duration.between(before, expires).toHours() <= 24,
                expires.toString());
        JsonNode half = call("POST", "/api/settings/api-keys", s, true, Map.of("name", "h", "expiresInDays", 0.5))
                .json();
        assertTrue(Duration.between(
                                before,
                                OffsetDateTime.parse(half.get("expiresAt").asText()))
                        .toSeconds()
                < 60);
        assertEquals(
                401,
                api.get("/api/v1/mogplex/repos", half.get("token").asText()).status(),
                "already expired");
        JsonNode never = call("POST", "/api/settings/api-keys", s, true, Map.of("name", "n", "expiresInDays", -3))
                .json();
        assertTrue(never.get("expiresAt").isNull());

        // Listed newest first, expired ones included, revoked ones not.
        List<String> names =
                names(call("GET", "/api/settings/api-keys", s, false, null).json());
        assertEquals(List.of("n", "h", "d", "ro", "laptop"), names);
        String id = created.get("id").asText();
        Api.Reply revoked = call("DELETE", "/api/settings/api-keys/" + id, s, true, null);
        assertEquals(200, revoked.status(), revoked.toString());
        assertTrue(revoked.json().get("ok").asBoolean());
        assertEquals(401, api.get("/api/v1/mogplex/repos", token).status(), "revoked");
        assertEquals(
                List.of("n", "h", "d", "ro"),
                names(call("GET", "/api/settings/api-keys", s, false, null).json()));
        assertError(call("DELETE", "/api/settings/api-keys/" + id, s, true, null), 404, "API key not found");
        assertError(call("DELETE", "/api/settings/api-keys/not-a-uuid", s, true, null), 404, "API key not found");
        // Never deleted.
        long rows = server.server()
                .database()
                .jdbi()
                .withHandle(h -> h.createQuery("SELECT count(*) FROM user_tokens WHERE id = :id")
                        .bind("id", Ids.typed("pat", id))
                        .mapTo(Long.class)
                        .one());
        assertEquals(1, rows);
    }

    @Test
    void oneUsersSessionCannotSeeOrRevokeAnothersKeys() {
        Session bob = session("bob", "bobs password");
        Session admin = session("admin", PASSWORD);
        JsonNode key = call("POST", "/api/settings/api-keys", bob, true, Map.of("name", "bobs-own"))
                .json();
        String id = key.get("id").asText();
        assertFalse(
                names(call("GET", "/api/settings/api-keys", admin, false, null).json())
                        .contains("bobs-own"));
        assertError(call("DELETE", "/api/settings/api-keys/" + id, admin, true, null), 404, "API key not found");
        assertEquals(
                200, api.get("/api/v1/mogplex/repos", key.get("token").asText()).status(), "still live");
        // Bob's CSRF token does not pass with admin's cookie.
        Map<String, String> mixed = admin.headers(false);
        mixed.put("X-CSRF-Token", bob.csrf());
        assertEquals(
                403,
                api.call("DELETE", "/api/settings/api-keys/" + id, null, null, mixed)
                        .status());
    }

    static void assertError(Api.Reply r, int status, String message) {
        assertEquals(status, r.status(), r.toString());
        assertEquals(message, r.json().get("error").asText(), r.toString());
    }

    static List<String> strings(JsonNode array) {
        assertNotNull(array);
        List<String> out = new java.util.ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }

    static List<String> names(JsonNode list) {
        List<String> out = new java.util.ArrayList<>();
        list.get("keys").forEach(k -> out.add(k.get("name").asText()));
        return out;
    }
}
