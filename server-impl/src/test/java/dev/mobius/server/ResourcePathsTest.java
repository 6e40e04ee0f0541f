package dev.mobius.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import jakarta.ws.rs.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Each resource repeats its generated interface's class-level @Path (Jersey does not inherit it). */
class ResourcePathsTest {
    @Test
    void resourcePathsEqualTheirGeneratedInterfaces() {
        Map<Class<?>, Class<?>> resources = Map.ofEntries(
                Map.entry(dev.mobius.server.projects.ProjectsResource.class, dev.mobius.api.ProjectsApi.class),
                Map.entry(dev.mobius.server.webhooks.WebhooksResource.class, dev.mobius.api.WebhooksApi.class),
                Map.entry(dev.mobius.server.actions.ActionsResource.class, dev.mobius.api.ActionsApi.class),
                Map.entry(dev.mobius.server.actions.CatalogResource.class, dev.mobius.api.CatalogApi.class),
                Map.entry(dev.mobius.server.workers.WorkerSocketResource.class, dev.mobius.api.JobsApi.class),
                Map.entry(
                        dev.mobius.server.workers.WorkerSessionsResource.class, dev.mobius.api.WorkerSessionsApi.class),
                Map.entry(dev.mobius.server.access.PrincipalsResource.class, dev.mobius.api.PrincipalsApi.class),
                Map.entry(dev.mobius.server.access.ApiKeysResource.class, dev.mobius.api.ApiKeysApi.class),
                Map.entry(dev.mobius.server.audit.AuditLogsResource.class, dev.mobius.api.AuditLogsApi.class),
                Map.entry(dev.mobius.server.system.SystemResource.class, dev.mobius.api.SystemApi.class),
                Map.entry(dev.mobius.server.access.RolesResource.class, dev.mobius.api.RolesApi.class),
                Map.entry(dev.mobius.server.access.PermissionsResource.class, dev.mobius.api.PermissionsApi.class),
                Map.entry(dev.mobius.server.automations.AutomationsResource.class, dev.mobius.api.AutomationsApi.class),
                Map.entry(dev.mobius.server.runs.RunsResource.class, dev.mobius.api.RunsApi.class),
                Map.entry(dev.mobius.server.triggers.TriggersResource.class, dev.mobius.api.TriggersApi.class),
                Map.entry(
                        dev.mobius.server.interactions.InteractionsResource.class,
                        dev.mobius.api.InteractionsApi.class));
        resources.forEach((impl, api) -> {
            assertNotNull(impl.getAnnotation(Path.class), impl.getSimpleName() + " has no @Path");
            assertEquals(
                    api.getAnnotation(Path.class).value(),
                    impl.getAnnotation(Path.class).value(),
                    impl.getSimpleName());
        });
    }
}
