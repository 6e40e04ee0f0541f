package dev.mobius.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mobius.client.ApiClient;
import dev.mobius.client.ApiException;
import dev.mobius.client.api.ApiKeysApi;
import dev.mobius.client.api.AuditLogsApi;
import dev.mobius.client.api.PrincipalsApi;
import dev.mobius.client.api.ProjectsApi;
import dev.mobius.client.model.APIKeyCreateResult;
import dev.mobius.client.model.AuditLogEntry;
import dev.mobius.client.model.CreateAPIKeyRequest;
import dev.mobius.client.model.CreatePrincipalRequest;
import dev.mobius.client.model.CreateProjectRequest;
import dev.mobius.client.model.Principal;
import dev.mobius.client.model.PrincipalState;
import dev.mobius.client.model.Project;
import dev.mobius.client.model.UpdatePrincipalRequest;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The README walk-through, through the Java client generated from the same contract. */
class GeneratedClientTest {

    private static ApiClient client(String baseUrl, String key) {
        ApiClient client = new ApiClient();
        client.updateBaseUri(baseUrl);
        client.setRequestInterceptor(b -> b.header("Authorization", "Bearer " + key));
        return client;
    }

    @Test
    void walkThroughWithTheGeneratedClient() throws Exception {
        try (TestServer server = TestServer.start()) {
            ApiClient admin = client(server.baseUrl(), TestServer.BOOTSTRAP_KEY);
            Project project = new ProjectsApi(admin)
                    .createProject(
                            new CreateProjectRequest().name("Client Walk").tags(Map.of("team", "platform")), "walk-1");
            assertEquals("client-walk", project.getHandle());

            Principal bot = new PrincipalsApi(admin)
                    .createPrincipal(
                            "client-walk",
                            new CreatePrincipalRequest().name("deployer").roleIds(List.of(Fixtures.OWNER)),
                            null);
            APIKeyCreateResult key = new ApiKeysApi(admin)
                    .createAPIKey(
                            "client-walk",
                            new CreateAPIKeyRequest().name("deployer-key").principalId(bot.getId()),
                            null);
            assertTrue(key.getKey().startsWith("mbx_") && key.getKey().endsWith(".client-walk"));

            // The new key works through the client, for its own project only.
            ApiClient deployer = client(server.baseUrl(), key.getKey());
            assertEquals(
                    project.getId(),
                    new ProjectsApi(deployer).getProject("client-walk").getId());
            ApiException other =
                    assertThrows(ApiException.class, () -> new ProjectsApi(deployer).getProject("default"));
            assertEquals(404, other.getCode());

            Principal disabled = new PrincipalsApi(admin)
                    .updatePrincipal(
                            "client-walk", bot.getId(), new UpdatePrincipalRequest().state(PrincipalState.DISABLED));
            assertEquals(PrincipalState.DISABLED, disabled.getState());
            assertEquals(
                    401,
                    assertThrows(ApiException.class, () -> new ProjectsApi(deployer).getProject("client-walk"))
                            .getCode());

            List<AuditLogEntry> entries = new AuditLogsApi(admin)
                    .listAuditLogs("client-walk", "principal", bot.getId(), null, null, null, null, null, 50)
                    .getItems();
            assertEquals(
                    List.of(AuditLogEntry.ActionEnum.UPDATE, AuditLogEntry.ActionEnum.CREATE),
                    entries.stream().map(AuditLogEntry::getAction).toList());
            assertEquals(
                    Map.of("state", "disabled"), entries.get(0).getChanges().getAfter());
        }
    }
}
