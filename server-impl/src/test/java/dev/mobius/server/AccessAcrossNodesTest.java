package dev.mobius.server;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Each node remembers the credentials and grants it has read. A change of access made through one
 * node must still hold on the other node's very next request: the key is used on node B until B
 * remembers it, changed through node A, and used on B again at once.
 */
class AccessAcrossNodesTest {
    private static final String P = "/v1/projects/default";
    private static final String ADMIN = TestServer.BOOTSTRAP_KEY;
    /** Each change is repeated, so an announcement that lagged behind the next request would show. */
    private static final int ROUNDS = 15;

    @Test
    void revokedKeysDisabledPrincipalsAndLostRolesHoldOnTheOtherNodesNextRequest() throws Exception {
        try (TwoNodes nodes = TwoNodes.start()) {
            Fixtures fx = new Fixtures(nodes.apiA, ADMIN);
            for (int i = 0; i < ROUNDS; i++) {
                Fixtures.Key key = fx.key("default", "revoked-" + i);
                rememberedOnB(nodes, key);
                assertEquals(
                        204,
                        nodes.apiA.delete(P + "/api-keys/" + key.id(), ADMIN).status());
                Api.Reply after = nodes.apiB.get(P, key.raw());
                assertEquals(401, after.status(), "round " + i + ": revoked key on node B: " + after);
            }

            for (int i = 0; i < ROUNDS; i++) {
                Fixtures.Key key = fx.key("default", "disabled-" + i);
                rememberedOnB(nodes, key);
                Api.Reply disabled =
                        nodes.apiA.patch(P + "/principals/" + key.principalId(), ADMIN, Map.of("state", "disabled"));
                assertEquals(200, disabled.status(), disabled.toString());
                Api.Reply after = nodes.apiB.get(P, key.raw());
                assertEquals(401, after.status(), "round " + i + ": disabled principal on node B: " + after);
                Api.Reply restored =
                        nodes.apiA.patch(P + "/principals/" + key.principalId(), ADMIN, Map.of("state", "active"));
                assertEquals(200, restored.status(), restored.toString());
                assertEquals(200, nodes.apiB.get(P, key.raw()).status(), "round " + i + ": restored on node B");
            }

            Fixtures.Key viewer = fx.key("default", "viewer", List.of());
            for (int i = 0; i < ROUNDS; i++) {
                assertEquals(403, nodes.apiB.get(P, viewer.raw()).status(), "round " + i + ": no role yet");
                Api.Reply assigned = nodes.apiA.post(
                        P + "/role-assignments",
                        ADMIN,
                        Map.of("principal_id", viewer.principalId(), "role_name", "Viewer"));
                assertEquals(201, assigned.status(), assigned.toString());
                assertEquals(200, nodes.apiB.get(P, viewer.raw()).status(), "round " + i + ": granted on node B");
                assertEquals(200, nodes.apiB.get(P, viewer.raw()).status());
                String assignment = assigned.json().get("id").asText();
                assertEquals(
                        204,
                        nodes.apiA
                                .delete(P + "/role-assignments/" + assignment, ADMIN)
                                .status());
                Api.Reply after = nodes.apiB.get(P, viewer.raw());
                assertEquals(403, after.status(), "round " + i + ": withdrawn role on node B: " + after);
            }
        }
    }

    /** Uses the key on node B a few times, so B answers the next request from memory if it can. */
    private static void rememberedOnB(TwoNodes nodes, Fixtures.Key key) {
        for (int n = 0; n < 3; n++) {
            Api.Reply r = nodes.apiB.get(P, key.raw());
            assertEquals(200, r.status(), r.toString());
        }
    }
}
