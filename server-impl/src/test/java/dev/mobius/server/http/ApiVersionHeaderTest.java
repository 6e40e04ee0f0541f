package dev.mobius.server.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.mobius.server.Api;
import dev.mobius.server.SharedServerTest;
import dev.mobius.server.TestServer;
import java.io.IOException;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Every response names the contract version it answers by, the one {@code GET /openapi.yaml} serves. */
class ApiVersionHeaderTest extends SharedServerTest {
    private static final String KEY = TestServer.BOOTSTRAP_KEY;
    private static String served;

    @BeforeAll
    static void readServedVersion() throws IOException {
        Api.Reply document = api.get("/openapi.yaml", null);
        assertEquals(200, document.status());
        served = new ObjectMapper(new YAMLFactory())
                .readTree(document.raw().body())
                .path("info")
                .path("version")
                .asText();
        assertTrue(
                served.matches("\\d+\\.\\d+\\.\\d+(-[0-9A-Za-z.-]+)?(\\+[0-9A-Za-z.-]+)?"),
                "info.version '" + served + "' is not a semantic version");
        assertEquals(served, document.header(ApiVersionHeader.HEADER), "on GET /openapi.yaml itself");
    }

    @Test
    void aSuccessCarriesTheVersion() {
        Api.Reply project = api.get("/v1/projects/default", KEY);
        assertEquals(200, project.status(), project.toString());
        assertEquals(served, project.header(ApiVersionHeader.HEADER));

        Api.Reply created = api.post("/v1/projects/default/principals", KEY, Map.of("name", "version-check"));
        assertEquals(201, created.status(), created.toString());
        assertEquals(served, created.header(ApiVersionHeader.HEADER));
    }

    @Test
    void errorsCarryTheVersion() {
        Api.Reply unauthorized = api.get("/v1/projects", null);
        assertEquals(401, unauthorized.status(), unauthorized.toString());
        assertEquals(served, unauthorized.header(ApiVersionHeader.HEADER));

        Api.Reply unknownProject = api.get("/v1/projects/no-such-project", KEY);
        assertEquals(404, unknownProject.status(), unknownProject.toString());
        assertEquals("not_found", unknownProject.errorCode());
        assertEquals(served, unknownProject.header(ApiVersionHeader.HEADER));

        Api.Reply unknownRoute = api.get("/v1/no-such-route", KEY);
        assertEquals(404, unknownRoute.status(), unknownRoute.toString());
        assertEquals(served, unknownRoute.header(ApiVersionHeader.HEADER));

        Api.Reply invalid = api.post("/v1/projects/default/principals", KEY, "{\"name\": ");
        assertEquals(400, invalid.status(), invalid.toString());
        assertEquals(served, invalid.header(ApiVersionHeader.HEADER));
    }

    @Test
    void healthCarriesTheVersion() {
        Api.Reply health = api.get("/healthz", null);
        assertEquals(200, health.status(), health.toString());
        assertEquals(served, health.header(ApiVersionHeader.HEADER));
    }

    @Test
    void theVersionIsReadFromInfoWhereverItStands() {
        assertEquals("2.3.4-rc.1", ApiVersionHeader.versionOf("""
                        openapi: 3.0.3
                        x-note:
                          version: 9.9.9
                        info:
                          title: T
                          description: |
                            version: 8.8.8
                          contact: {name: n, version: 7.7.7}
                          version: 2.3.4-rc.1
                        paths: {}
                        """));
        assertThrows(
                IllegalStateException.class, () -> ApiVersionHeader.versionOf("openapi: 3.0.3\ninfo:\n  title: T\n"));
    }
}
