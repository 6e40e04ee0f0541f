package dev.mobius.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Roles take effect on the next request; nobody escalates; a project keeps an Owner. */
class AccessControlTest extends SharedServerTest {
    static Fixtures fx;
    static final String ADMIN = TestServer.BOOTSTRAP_KEY;

    @BeforeAll
    static void start() {
        fx = new Fixtures(api, ADMIN);
        fx.project("Guarded");
    }

    private static String assign(String principalId, String roleName) {
        Api.Reply r = api.post(
                "/v1/projects/guarded/role-assignments",
                ADMIN,
                Map.of("principal_id", principalId, "role_name", roleName));
        assertEquals(201, r.status(), r.toString());
        return r.json().get("id").asText();
    }

    @Test
    void roleChangesTakeEffectOnTheNextRequest() {
        Fixtures.Key key = fx.key("guarded", "changing", List.of());
        assertEquals(403, api.get("/v1/projects/guarded", key.raw()).status());
        String viewer = assign(key.principalId(), "Viewer");
        assertEquals(200, api.get("/v1/projects/guarded", key.raw()).status());
        Api.Reply denied = api.patch("/v1/projects/guarded", key.raw(), Map.of("description", "by viewer"));
        assertEquals(403, denied.status());
        assertEquals(
                "mobius.project.manage",
                denied.json().get("error").get("details").get("permission").asText());
        String admin = assign(key.principalId(), "Admin");
        assertEquals(
                200,
                api.patch("/v1/projects/guarded", key.raw(), Map.of("description", "by admin"))
                        .status());
        assertEquals(
                204,
                api.delete("/v1/projects/guarded/role-assignments/" + admin, ADMIN)
                        .status());
        assertEquals(
                403,
                api.patch("/v1/projects/guarded", key.raw(), Map.of("description", "again"))
                        .status());
        assertEquals(
                204,
                api.delete("/v1/projects/guarded/role-assignments/" + viewer, ADMIN)
                        .status());
        assertEquals(403, api.get("/v1/projects/guarded", key.raw()).status());
    }

    @Test
    void nobodyGrantsWhatTheyDoNotHold() {
        Fixtures.Key key = fx.key("guarded", "access-clerk", List.of());
        Api.Reply role = api.post(
                "/v1/projects/guarded/roles",
                ADMIN,
                Map.of(
                        "name",
                        "Access clerk",
                        "permissions",
                        List.of("mobius.project.view", "mobius.access.view", "mobius.access.manage")));
        assertEquals(201, role.status(), role.toString());
        assign(key.principalId(), "Access clerk");
        Fixtures.Key target = fx.key("guarded", "target", List.of());

        Api.Reply owner = api.post(
                "/v1/projects/guarded/role-assignments",
                key.raw(),
                Map.of("principal_id", target.principalId(), "role_name", "Owner"));
        assertEquals(403, owner.status(), owner.toString());
        assertEquals("role_escalation", owner.errorCode());
        assertTrue(owner.json()
                .get("error")
                .get("details")
                .get("missing_permissions")
                .toString()
                .contains("mobius.project.manage"));
        // Viewer holds mobius.audit.view, which the clerk lacks.
        assertEquals(
                "role_escalation",
                api.post(
                                "/v1/projects/guarded/role-assignments",
                                key.raw(),
                                Map.of("principal_id", target.principalId(), "role_name", "Viewer"))
                        .errorCode());
        assertEquals(
                "role_escalation",
                api.patch(
                                "/v1/projects/guarded/principals/" + target.principalId(),
                                key.raw(),
                                Map.of("role_ids", List.of("role_000000000000000000000admin")))
                        .errorCode());
        assertEquals(
                "role_escalation",
                api.post(
                                "/v1/projects/guarded/roles",
                                key.raw(),
                                Map.of("name", "Sneaky", "permissions", List.of("mobius.project.manage")))
                        .errorCode());
        assertEquals(
                "role_escalation",
                api.patch(
                                "/v1/projects/guarded/roles/"
                                        + role.json().get("id").asText(),
                                key.raw(),
                                Map.of("permissions", List.of("mobius.audit.view")))
                        .errorCode());
        // Within its own permissions it may define and grant.
        assertEquals(
                201,
                api.post(
                                "/v1/projects/guarded/roles",
                                key.raw(),
                                Map.of("name", "Reader", "permissions", List.of("mobius.access.view")))
                        .status());
        assertEquals(
                201,
                api.post(
                                "/v1/projects/guarded/role-assignments",
                                key.raw(),
                                Map.of("principal_id", target.principalId(), "role_name", "Reader"))
                        .status());
    }

    @Test
    void theLastOwnerCannotBeRemovedOrDemoted() {
        fx.project("Owned");
        JsonNode owners = api.get("/v1/projects/owned/role-assignments?role_id=role_000000000000000000000owner", ADMIN)
                .json()
                .get("items");
        assertEquals(1, owners.size());
        String ownerAssignment = owners.get(0).get("id").asText();
        String bootstrapPrincipal = owners.get(0).get("principal_id").asText();
        Api.Reply removed = api.delete("/v1/projects/owned/role-assignments/" + ownerAssignment, ADMIN);
        assertEquals(409, removed.status(), removed.toString());
        assertEquals("last_owner", removed.errorCode());
        // The bootstrap principal lives in `default`; demoting it in `owned` via role_ids is refused too.
        Fixtures.Key second = fx.key("owned", "second-owner", List.of());
        Api.Reply grant = api.post(
                "/v1/projects/owned/role-assignments",
                ADMIN,
                Map.of("principal_id", second.principalId(), "role_name", "Owner"));
        assertEquals(201, grant.status());
        Api.Reply demote = api.patch(
                "/v1/projects/owned/principals/" + second.principalId(), ADMIN, Map.of("role_ids", List.of()));
        assertEquals(200, demote.status(), "another Owner remains: " + demote);
        assertEquals(
                409,
                api.delete("/v1/projects/owned/role-assignments/" + ownerAssignment, ADMIN)
                        .status());
        assertEquals(
                201,
                api.post(
                                "/v1/projects/owned/role-assignments",
                                ADMIN,
                                Map.of("principal_id", second.principalId(), "role_name", "Owner"))
                        .status());
        assertEquals(
                204,
                api.delete("/v1/projects/owned/role-assignments/" + ownerAssignment, ADMIN)
                        .status());
        assertFalse(bootstrapPrincipal.isEmpty());
    }

    @Test
    void systemRolesAreImmutableAndCustomRoleDeletionTakesItsAssignments() {
        assertEquals(
                "system_role_immutable",
                api.patch(
                                "/v1/projects/guarded/roles/role_00000000000000000000viewer",
                                ADMIN,
                                Map.of("description", "mine now"))
                        .errorCode());
        assertEquals(
                "system_role_immutable",
                api.delete("/v1/projects/guarded/roles/role_000000000000000000000owner", ADMIN)
                        .errorCode());
        Api.Reply role = api.post(
                "/v1/projects/guarded/roles",
                ADMIN,
                Map.of("name", "Temporary", "permissions", List.of("mobius.project.view")));
        String roleId = role.json().get("id").asText();
        Fixtures.Key key = fx.key("guarded", "temp-holder", List.of());
        String assignment = assign(key.principalId(), "Temporary");
        assertEquals(200, api.get("/v1/projects/guarded", key.raw()).status());
        assertEquals(
                204, api.delete("/v1/projects/guarded/roles/" + roleId, ADMIN).status());
        assertEquals(
                0,
                api.get("/v1/projects/guarded/role-assignments?role_id=" + roleId, ADMIN)
                        .json()
                        .get("items")
                        .size());
        assertEquals(403, api.get("/v1/projects/guarded", key.raw()).status());
        JsonNode audit = api.get("/v1/projects/guarded/audit-logs?resource_id=" + assignment, ADMIN)
                .json()
                .get("items");
        assertEquals("delete", audit.get(0).get("action").asText());
        assertEquals(
                409,
                api.post("/v1/projects/guarded/roles", ADMIN, Map.of("name", "owner", "permissions", List.of()))
                        .status());
        assertEquals(
                "validation_failed",
                api.post(
                                "/v1/projects/guarded/roles",
                                ADMIN,
                                Map.of("name", "Bad", "permissions", List.of("mobius.nope")))
                        .errorCode());
    }
}
