package dev.mobius.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.util.Map;

import jakarta.ws.rs.Path;

import org.junit.jupiter.api.Test;

/** Each resource repeats its generated interface's class-level @Path (Jersey does not inherit it). */
class ResourcePathsTest {
    @Test
    void resourcePathsEqualTheirGeneratedInterfaces() {
        Map<Class<?>, Class<?>> resources = Map.of(
                dev.mobius.server.projects.ProjectsResource.class, dev.mobius.api.ProjectsApi.class,
                dev.mobius.server.access.PrincipalsResource.class, dev.mobius.api.PrincipalsApi.class,
                dev.mobius.server.access.ApiKeysResource.class, dev.mobius.api.ApiKeysApi.class,
                dev.mobius.server.audit.AuditLogsResource.class, dev.mobius.api.AuditLogsApi.class,
                dev.mobius.server.system.SystemResource.class, dev.mobius.api.SystemApi.class,
                dev.mobius.server.access.RolesResource.class, dev.mobius.api.RolesApi.class,
                dev.mobius.server.access.PermissionsResource.class, dev.mobius.api.PermissionsApi.class,
                dev.mobius.server.automations.AutomationsResource.class, dev.mobius.api.AutomationsApi.class,
                dev.mobius.server.runs.RunsResource.class, dev.mobius.api.RunsApi.class,
                dev.mobius.server.automations.TriggersResource.class, dev.mobius.api.TriggersApi.class);
        resources.forEach((impl, api) -> {
            assertNotNull(impl.getAnnotation(Path.class), impl.getSimpleName() + " has no @Path");
            assertEquals(api.getAnnotation(Path.class).value(), impl.getAnnotation(Path.class).value(), impl.getSimpleName());
        });
    }
}
