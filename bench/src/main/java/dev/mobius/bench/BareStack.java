package dev.mobius.bench;

import com.fasterxml.jackson.annotation.JsonProperty;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import java.net.URI;
import java.util.Map;
import org.glassfish.grizzly.http.server.HttpServer;
import org.glassfish.jersey.grizzly2.httpserver.GrizzlyHttpServerFactory;
import org.glassfish.jersey.jackson.JacksonFeature;
import org.glassfish.jersey.server.ResourceConfig;
import org.glassfish.jersey.server.ServerProperties;

/**
 * The baseline for {@link ReadBench}: the same HTTP stack as the server (Grizzly, Jersey, Jackson)
 * with nothing of the server in it. One resource, {@code GET /v1/projects/{p}/runs/{id}}, answers a
 * fixed document shaped and sized like the server's run (about 470 bytes, the same fields in the
 * same order), built per request with the id from the path. No filters, no authentication, no
 * database, no request log.
 *
 * <p>The listener is built as {@code MobiusServer} builds its own: {@link
 * GrizzlyHttpServerFactory#createHttpServer(URI, ResourceConfig, boolean)} with Grizzly's default
 * worker pool and keep-alive settings (the server tunes neither), the same 16 KiB header limit,
 * WADL off and Jackson without its exception mappers. Binds to an ephemeral loopback port.
 */
public final class BareStack implements AutoCloseable {
    private static final int MAX_HEADER_BYTES = 16 * 1024;

    private final HttpServer http;

    private BareStack(HttpServer http) {
        this.http = http;
    }

    static BareStack start() throws java.io.IOException {
        ResourceConfig app = new ResourceConfig()
                .property(ServerProperties.WADL_FEATURE_DISABLE, true)
                .register(JacksonFeature.withoutExceptionMappers())
                .register(new RunResource());
        HttpServer http = GrizzlyHttpServerFactory.createHttpServer(URI.create("http://127.0.0.1:0/"), app, false);
        http.getListener("grizzly").setMaxHttpHeaderSize(MAX_HEADER_BYTES);
        http.start();
        return new BareStack(http);
    }

    int port() {
        return http.getListener("grizzly").getPort();
    }

    @Override
    public void close() {
        http.shutdownNow();
    }

    /** The one resource. Public, as Jersey requires of resource classes. */
    @Path("/v1/projects/{p}/runs/{id}")
    public static final class RunResource {
        @GET
        @Produces(MediaType.APPLICATION_JSON)
        public Run get(@PathParam("p") String project, @PathParam("id") String id) {
            return new Run(
                    id,
                    "org_01m92a3e22eyhvqypm9pr8k2kx",
                    "proj_01m92a3e2he6dvv73zjksrr2tb",
                    "aut_01m92a3jqneczsmbjgfvj59dtg",
                    "autv_01m92a3knwer5a30xay5jffg6a",
                    1,
                    "suspended",
                    "2026-12-05T05:16:24.823994Z",
                    "2026-12-05T05:16:24.866501Z",
                    "bench",
                    Map.of(),
                    new Source("api"),
                    "2026-12-05T05:16:24.866501Z");
        }
    }

    /** The fields of the server's run answer, in its order (a suspended run of RunBench's automation). */
    public record Run(
            @JsonProperty("id") String id,
            @JsonProperty("org_id") String orgId,
            @JsonProperty("project_id") String projectId,
            @JsonProperty("automation_id") String automationId,
            @JsonProperty("automation_version_id") String automationVersionId,
            @JsonProperty("automation_version") int automationVersion,
            @JsonProperty("status") String status,
            @JsonProperty("created_at") String createdAt,
            @JsonProperty("updated_at") String updatedAt,
            @JsonProperty("automation_name") String automationName,
            @JsonProperty("inputs") Map<String, Object> inputs,
            @JsonProperty("source") Source source,
            @JsonProperty("started_at") String startedAt) {}

    public record Source(@JsonProperty("type") String type) {}
}
