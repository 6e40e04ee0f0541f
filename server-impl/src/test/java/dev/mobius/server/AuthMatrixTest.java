package dev.mobius.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Every way a credential can be wrong, and the project binding of keys. */
class AuthMatrixTest extends SharedServerTest {
    static Fixtures fx;
    static Fixtures.Key ciKey;

    @BeforeAll
    static void start() {
        fx = new Fixtures(api, TestServer.BOOTSTRAP_KEY);
        fx.project("Payments");
        ciKey = fx.key("payments", "ci");
    }

    private static void assertUnauthorized(Api.Reply r) {
        assertEquals(401, r.status(), r.toString());
        assertEquals("unauthorized", r.errorCode());
        assertEquals("Bearer", r.header("WWW-Authenticate"));
    }

    @Test
    void missingMalformedAndUnknownCredentialsAre401() {
        assertUnauthorized(api.get("/v1/projects/payments", null));
        assertUnauthorized(
                api.call("GET", "/v1/projects/payments", null, null, Map.of("Authorization", "Basic dXNlcjpwdw==")));
        assertUnauthorized(api.call("GET", "/v1/projects/payments", null, null, Map.of("Authorization", "Bearer")));
        assertUnauthorized(api.get("/v1/projects/payments", "not-a-key"));
        assertUnauthorized(api.get("/v1/projects/payments", "mbx_UnknownSecret000000000000000000000000"));
        assertUnauthorized(api.get("/v1/projects/payments", ciKey.raw() + "x"));
        assertUnauthorized(api.get("/v1/projects/payments", "mbx_."));
    }

    @Test
    void projectKeyReachesOnlyItsProject() {
        assertEquals(200, api.get("/v1/projects/payments", ciKey.raw()).status());
        fx.project("Other Team");
        Api.Reply other = api.get("/v1/projects/other-team", ciKey.raw());
        assertEquals(404, other.status(), other.toString());
        assertEquals("not_found", other.errorCode());
        // A project key cannot change another project either, nor see it listed.
        assertEquals(
                404,
                api.patch("/v1/projects/other-team", ciKey.raw(), Map.of("description", "x"))
                        .status());
        assertEquals(
                404, api.get("/v1/projects/other-team/principals", ciKey.raw()).status());
        assertEquals(
                404,
                api.post("/v1/projects/default/principals", ciKey.raw(), Map.of("name", "intruder"))
                        .status());
        assertEquals(1, api.get("/v1/projects", ciKey.raw()).json().get("items").size());
        assertEquals(403, api.get("/v1/audit-logs", ciKey.raw()).status());
        assertEquals(
                "org_credential_required",
                api.post("/v1/projects", ciKey.raw(), Map.of("name", "x")).errorCode());
    }

    @Test
    void suffixMustMatchTheBoundProject() {
        String secret = ciKey.raw().substring(0, ciKey.raw().lastIndexOf('.'));
        assertEquals(200, api.get("/v1/projects/payments", secret).status(), "the suffix is optional");
        assertUnauthorized(api.get("/v1/projects/payments", secret + ".default"));
        assertUnauthorized(api.get("/v1/projects/payments", secret + ".no-such-project"));
        // The organization key with a suffix is pinned to that project.
        assertEquals(
                200,
                api.get("/v1/projects/payments", TestServer.BOOTSTRAP_KEY + ".payments")
                        .status());
        assertEquals(
                404,
                api.get("/v1/projects/default", TestServer.BOOTSTRAP_KEY + ".payments")
                        .status());
        assertUnauthorized(api.get("/v1/projects/default", TestServer.BOOTSTRAP_KEY + ".nope"));
    }

    @Test
    void revokedKeyFailsOnItsNextUse() {
        Fixtures.Key key = fx.key("payments", "short-lived");
        assertEquals(200, api.get("/v1/projects/payments", key.raw()).status());
        assertEquals(
                204,
                api.delete("/v1/projects/payments/api-keys/" + key.id(), TestServer.BOOTSTRAP_KEY)
                        .status());
        assertUnauthorized(api.get("/v1/projects/payments", key.raw()));
    }

    @Test
    void expiredKeyIs401() {
        String principal = fx.principal("payments", "expiring", java.util.List.of(Fixtures.OWNER));
        String expiresAt = java.time.OffsetDateTime.now().plusSeconds(2).toString();
        Api.Reply created = api.post(
                "/v1/projects/payments/api-keys",
                TestServer.BOOTSTRAP_KEY,
                Map.of("name", "expiring", "principal_id", principal, "expires_at", expiresAt));
        assertEquals(201, created.status(), created.toString());
        String raw = created.json().get("key").asText();
        assertEquals(200, api.get("/v1/projects/payments", raw).status());
        server.server()
                .database()
                .jdbi()
                .useHandle(h -> h.execute(
                        "UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE id = ?",
                        created.json().get("id").asText()));
        assertUnauthorized(api.get("/v1/projects/payments", raw));
    }

    @Test
    void disabledPrincipalIsLockedOutOnTheNextRequestAndCanBeRestored() {
        Fixtures.Key key = fx.key("payments", "switchable");
        assertEquals(200, api.get("/v1/projects/payments", key.raw()).status());
        Api.Reply disabled = api.patch(
                "/v1/projects/payments/principals/" + key.principalId(),
                TestServer.BOOTSTRAP_KEY,
                Map.of("state", "disabled"));
        assertEquals(200, disabled.status(), disabled.toString());
        assertUnauthorized(api.get("/v1/projects/payments", key.raw()));
        assertEquals(
                200,
                api.patch(
                                "/v1/projects/payments/principals/" + key.principalId(),
                                TestServer.BOOTSTRAP_KEY,
                                Map.of("state", "active"))
                        .status());
        assertEquals(200, api.get("/v1/projects/payments", key.raw()).status());
    }

    @Test
    void unauthenticatedRoutesNeedNoCredential() {
        assertEquals(200, api.get("/healthz", null).status());
        assertEquals(200, api.get("/readyz", null).status());
        Api.Reply spec = api.get("/openapi.yaml", null);
        assertEquals(200, spec.status());
        assertTrue(spec.raw().body().contains("\nopenapi: 3.0.3\n"));
    }
}
