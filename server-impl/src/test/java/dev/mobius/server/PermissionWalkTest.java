package dev.mobius.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mobius.server.http.OperationCatalog;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Walks every secured operation of the contract with four principals (no role, Viewer, Member,
 * Owner) and checks each answer against the permission the operation declares and the role's
 * permissions from the catalogue.
 */
class PermissionWalkTest {

    @Test
    void everyOperationAllowsExactlyThePrincipalsWhoseRolesGrantItsPermission() {
        try (TestServer server = TestServer.start()) {
            Api api = new Api(server.baseUrl());
            Fixtures fx = new Fixtures(api, TestServer.BOOTSTRAP_KEY);
            fx.project("Walk");
            JsonNode catalog = api.get("/v1/projects/walk/permissions", TestServer.BOOTSTRAP_KEY)
                    .json();
            Map<String, Set<String>> presets = new LinkedHashMap<>();
            catalog.get("presets").forEach(p -> {
                Set<String> perms = new HashSet<>();
                p.get("permissions").forEach(x -> perms.add(x.asText()));
                presets.put(p.get("id").asText(), perms);
            });
            Set<String> known = new HashSet<>();
            catalog.get("items").forEach(i -> known.add(i.get("id").asText()));

            Map<String, String> keys = new LinkedHashMap<>();
            keys.put("none", fx.key("walk", "no-role", List.of()).raw());
            for (String role : List.of("viewer", "member", "owner")) {
                Fixtures.Key key = fx.key("walk", role + "-bot", List.of());
                String roleId = findRoleId(api, role);
                Api.Reply granted = api.post(
                        "/v1/projects/walk/role-assignments",
                        TestServer.BOOTSTRAP_KEY,
                        Map.of("principal_id", key.principalId(), "role_id", roleId));
                assertEquals(201, granted.status(), granted.toString());
                keys.put(role, key.raw());
            }

            List<String> failures = new ArrayList<>();
            int checked = 0;
            for (OperationCatalog.OperationInfo op : OperationWalk.securedOperations()) {
                assertTrue(
                        op.permission() != null && known.contains(op.permission()),
                        op.operationId() + " declares a permission from the catalogue");
                for (Map.Entry<String, String> principal : keys.entrySet()) {
                    Set<String> held = principal.getKey().equals("none") ? Set.of() : presets.get(principal.getKey());
                    boolean allowed = held.contains(op.permission());
                    Api.Reply reply = OperationWalk.send(api, op, "walk", principal.getValue());
                    boolean forbidden = reply.status() == 403 && "forbidden".equals(reply.errorCode());
                    checked++;
                    if (allowed && forbidden) {
                        failures.add(op.operationId() + " refused " + principal.getKey() + ": " + reply);
                    } else if (!allowed && !forbidden) {
                        failures.add(op.operationId() + " let " + principal.getKey() + " through: " + reply);
                    } else if (!allowed
                            && !op.permission()
                                    .equals(reply.json()
                                            .get("error")
                                            .get("details")
                                            .get("permission")
                                            .asText())) {
                        failures.add(op.operationId() + " named the wrong permission: " + reply);
                    }
                }
            }
            assertFalse(checked == 0);
            if (!failures.isEmpty()) {
                fail(failures.size() + " of " + checked + " checks failed:\n  " + String.join("\n  ", failures));
            }
        }
    }

    private static String findRoleId(Api api, String role) {
        for (JsonNode r : api.get("/v1/projects/walk/roles?limit=200", TestServer.BOOTSTRAP_KEY)
                .json()
                .get("items")) {
            if (r.get("name").asText().equalsIgnoreCase(role)) {
                return r.get("id").asText();
            }
        }
        throw new IllegalStateException("no role " + role);
    }
}
