package dev.mobius.server.system;

import dev.mobius.api.SystemApi;
import dev.mobius.api.model.HealthStatus;
import dev.mobius.server.db.Database;
import dev.mobius.server.http.OperationCatalog;
import jakarta.ws.rs.core.Response;

/**
 * Liveness, readiness and the contract itself; no credential needed. Liveness stays 200 while the
 * database is lost (the process is alive and recovers by itself); readiness reports the loss.
 */
// Jersey reads the class-level @Path from the class itself, not from the generated interface;
// ResourcePathsTest keeps this copy equal to it.
@jakarta.ws.rs.Path("")
public final class SystemResource implements SystemApi {
    private final Database database;
    private final OperationCatalog catalog;

    public SystemResource(Database database, OperationCatalog catalog) {
        this.database = database;
        this.catalog = catalog;
    }

    @Override
    public Response getHealth() {
        return Response.ok(new HealthStatus().status(HealthStatus.StatusEnum.OK))
                .build();
    }

    @Override
    public Response getReadiness() {
        if (database.available()) {
            return Response.ok(new HealthStatus().status(HealthStatus.StatusEnum.READY))
                    .build();
        }
        return Response.status(Response.Status.SERVICE_UNAVAILABLE)
                .header(
                        jakarta.ws.rs.core.HttpHeaders.RETRY_AFTER,
                        dev.mobius.server.http.ApiException.DATABASE_RETRY_AFTER_SECONDS)
                .entity(new HealthStatus().status(HealthStatus.StatusEnum.UNAVAILABLE))
                .build();
    }

    @Override
    public Response getOpenApiDocument() {
        return Response.ok(catalog.document(), "application/yaml").build();
    }
}
