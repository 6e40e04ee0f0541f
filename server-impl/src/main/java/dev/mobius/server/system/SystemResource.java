package dev.mobius.server.system;

import dev.mobius.api.SystemApi;
import dev.mobius.api.model.HealthStatus;
import dev.mobius.server.background.Readiness;
import dev.mobius.server.db.Database;
import dev.mobius.server.http.OperationCatalog;
import jakarta.ws.rs.core.Response;

/**
 * Liveness, readiness and the contract itself; no credential needed. Liveness stays 200 while the
 * database is lost (the process is alive and recovers by itself); readiness reports the loss, and
 * a background loop (engine, dispatcher, deliverer, sweeper, notifier) that stopped, which does not
 * come back by itself. Which loop stopped is logged; with metrics on, {@code mobius_loop_up} shows each.
 */
// Jersey reads the class-level @Path from the class itself, not from the generated interface;
// ResourcePathsTest keeps this copy equal to it.
@jakarta.ws.rs.Path("")
public final class SystemResource implements SystemApi {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(SystemResource.class);
    private final Database database;
    private final OperationCatalog catalog;
    private final java.util.function.Supplier<Readiness> loops;

    public SystemResource(Database database, OperationCatalog catalog) {
        this(database, catalog, () -> null);
    }

    /** @param loops the node's loops, known once they started (null before: nothing to report yet) */
    public SystemResource(Database database, OperationCatalog catalog, java.util.function.Supplier<Readiness> loops) {
        this.database = database;
        this.catalog = catalog;
        this.loops = loops;
    }

    @Override
    public Response getHealth() {
        return Response.ok(new HealthStatus().status(HealthStatus.StatusEnum.OK))
                .build();
    }

    @Override
    public Response getReadiness() {
        Readiness readiness = loops.get();
        java.util.List<String> stopped = readiness == null ? java.util.List.of() : readiness.notRunning();
        java.util.Map<String, dev.mobius.api.model.LoopState> byLoop = null;
        if (readiness != null) {
            byLoop = new java.util.LinkedHashMap<>();
            for (var loop : readiness.loops().entrySet()) {
                byLoop.put(
                        loop.getKey(),
                        dev.mobius.api.model.LoopState.fromValue(
                                loop.getValue().name().toLowerCase(java.util.Locale.ROOT)));
            }
        }
        if (!stopped.isEmpty()) {
            log.warn("not ready: background loops stopped or stalled: {}", stopped);
            return Response.status(Response.Status.SERVICE_UNAVAILABLE)
                    .header(
                            jakarta.ws.rs.core.HttpHeaders.RETRY_AFTER,
                            dev.mobius.server.http.ApiException.DATABASE_RETRY_AFTER_SECONDS)
                    .entity(new HealthStatus()
                            .status(HealthStatus.StatusEnum.UNAVAILABLE)
                            .loops(byLoop))
                    .build();
        }
        if (database.available()) {
            return Response.ok(new HealthStatus()
                            .status(HealthStatus.StatusEnum.READY)
                            .loops(byLoop))
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
