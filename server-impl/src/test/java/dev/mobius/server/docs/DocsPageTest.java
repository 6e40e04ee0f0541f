package dev.mobius.server.docs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mobius.server.Api;
import dev.mobius.server.MobiusServer;
import dev.mobius.server.ServerConfig;
import dev.mobius.server.SharedServerTest;
import dev.mobius.server.TestServer;
import dev.mobius.server.access.RateLimiter;
import dev.mobius.server.db.EmbeddedPostgres;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** {@code GET /docs}: the API reference page and the Swagger UI files it loads, all from this server. */
class DocsPageTest extends SharedServerTest {
    private static final Pattern REFERENCE = Pattern.compile("(?:src|href)=\"([^\"]*)\"");
    private static final Pattern INLINE_SCRIPT = Pattern.compile("<script>(.*?)</script>", Pattern.DOTALL);
    private static final Map<String, String> TYPES = Map.of(
            "js", "text/javascript;charset=utf-8",
            "css", "text/css;charset=utf-8",
            "png", "image/png",
            "txt", "text/plain;charset=utf-8");

    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @Test
    void thePageNeedsNoCredentialAndRefersOnlyToFilesOfThisServer() {
        Api.Reply page = api.get("/docs", null);
        assertEquals(200, page.status(), page.toString());
        assertEquals("text/html;charset=utf-8", page.header("Content-Type"));
        assertEquals("no-cache", page.header("Cache-Control"));
        String html = page.raw().body();
        assertTrue(html.startsWith("<!DOCTYPE html>"), html);
        assertFalse(html.contains("http://"), "no absolute URL in the page:\n" + html);
        assertFalse(html.contains("https://"), "no absolute URL in the page:\n" + html);
        assertFalse(html.contains("//cdn") || html.contains("src=\"//") || html.contains("href=\"//"), html);

        List<String> references = references(html);
        assertTrue(references.contains("/docs/swagger-ui-bundle.js?v=" + webjarVersion()), references.toString());
        assertTrue(references.contains("/docs/swagger-ui.css?v=" + webjarVersion()), references.toString());
        for (String reference : references) {
            assertTrue(reference.startsWith("/docs/"), "a file of this server: " + reference);
        }
        // The renderer reads this server's contract, opens deep links, and calls no validator.
        String script = inlineScript(html);
        assertTrue(script.contains("url: \"/openapi.yaml\""), script);
        assertTrue(script.contains("deepLinking: true"), script);
        assertTrue(script.contains("validatorUrl: null"), script);
    }

    @Test
    void theContentSecurityPolicyAllowsThisServerOnlyAndTheOneInlineScript() throws Exception {
        Api.Reply page = api.get("/docs", null);
        String policy = page.header("Content-Security-Policy");
        assertNotNull(policy, "the page carries a Content-Security-Policy");
        assertTrue(policy.startsWith("default-src 'none';"), policy);
        assertTrue(policy.contains("connect-src 'self';"), policy);
        assertTrue(policy.contains("img-src 'self' data:;"), policy);
        String hash = Base64.getEncoder()
                .encodeToString(MessageDigest.getInstance("SHA-256")
                        .digest(inlineScript(page.raw().body()).getBytes(StandardCharsets.UTF_8)));
        assertTrue(policy.contains("script-src 'self' 'sha256-" + hash + "';"), policy);
        assertFalse(policy.contains("http"), "no other origin is allowed: " + policy);
        assertEquals("nosniff", page.header("X-Content-Type-Options"));
    }

    @Test
    void everyFileThePageLoadsIsServedAsTheWebjarShipsIt() {
        String html = api.get("/docs", null).raw().body();
        for (String reference : references(html)) {
            HttpResponse<byte[]> file = fetch(reference, Map.of());
            assertEquals(200, file.statusCode(), reference);
            String name = reference.substring("/docs/".length(), reference.indexOf('?'));
            String extension = name.substring(name.lastIndexOf('.') + 1);
            assertEquals(
                    TYPES.get(extension),
                    file.headers().firstValue("Content-Type").orElse(null),
                    reference);
            assertEquals(
                    "public, max-age=31536000, immutable",
                    file.headers().firstValue("Cache-Control").orElse(null),
                    reference);
            assertEquals(
                    "nosniff",
                    file.headers().firstValue("X-Content-Type-Options").orElse(null));
            assertArrayEquals(webjarFile(name), file.body(), reference);
        }
        // The bundle's licence notice, which its first line points to, is served as well.
        HttpResponse<byte[]> notice = fetch("/docs/swagger-ui-bundle.js.LICENSE.txt", Map.of());
        assertEquals(200, notice.statusCode());
        assertEquals(
                "text/plain;charset=utf-8",
                notice.headers().firstValue("Content-Type").orElse(null));
    }

    @Test
    void aFileAskedForWithoutTheVersionIsCachedForAnHourOnly() {
        for (String query : List.of("", "?v=0.0.1")) {
            HttpResponse<byte[]> file = fetch("/docs/swagger-ui.css" + query, Map.of());
            assertEquals(200, file.statusCode());
            assertEquals(
                    "public, max-age=3600",
                    file.headers().firstValue("Cache-Control").orElse(null),
                    query);
        }
    }

    @Test
    void aCredentialIsNeitherNeededNorInTheWay() {
        // A wrong credential does not turn the page into a 401: it is not read at all.
        Api.Reply withBadKey = api.get("/docs", "mbx_UnknownSecret000000000000000000000000");
        assertEquals(200, withBadKey.status(), withBadKey.toString());
        assertEquals(
                200,
                fetch("/docs/swagger-ui.css", Map.of("Authorization", "Bearer nonsense"))
                        .statusCode());
    }

    @Test
    void namesOutsideTheServedFilesAre404Envelopes() {
        Map<String, String> attempts = Map.ofEntries(
                Map.entry("/docs/..%2Fopenapi.yaml", "../openapi.yaml"),
                Map.entry("/docs/%2E%2E%2Fopenapi.yaml", "../openapi.yaml"),
                Map.entry("/docs/..%2F..%2F..%2Fdocs%2Findex.html", "../../../docs/index.html"),
                Map.entry("/docs/..%5Cswagger-ui.css", "..\\swagger-ui.css"),
                Map.entry("/docs/%2Fetc%2Fpasswd", "/etc/passwd"),
                Map.entry("/docs/%2E%2E", ".."),
                Map.entry("/docs/swagger-initializer.js", "swagger-initializer.js"),
                Map.entry("/docs/index.html", "index.html"),
                Map.entry("/docs/5.35.0%2Fswagger-ui.css", "5.35.0/swagger-ui.css"),
                Map.entry(
                        "/docs/META-INF%2Fmaven%2Forg.webjars%2Fswagger-ui%2Fpom.xml",
                        "META-INF/maven/org.webjars/swagger-ui/pom.xml"));
        attempts.forEach((path, name) -> {
            Api.Reply reply = api.get(path, null);
            assertEquals(404, reply.status(), path + ": " + reply);
            assertEquals("application/json", reply.header("Content-Type"), path);
            assertEquals("not_found", reply.errorCode(), path);
            assertEquals(
                    "file \"" + name + "\" not found",
                    reply.json().path("error").path("message").asText(),
                    path);
        });
        // A NUL in the name is refused before any lookup, as in every path parameter.
        Api.Reply nul = api.get("/docs/swagger-ui.css%00", null);
        assertEquals(400, nul.status(), nul.toString());
        assertEquals("invalid_parameter", nul.errorCode());
        // More than one segment is no route at all: still the envelope.
        Api.Reply nested = api.get("/docs/swagger-ui/5.35.0/swagger-ui.css", null);
        assertEquals(404, nested.status(), nested.toString());
        assertEquals("not_found", nested.errorCode());
    }

    @Test
    @Tag("slow")
    void thePageAndItsFilesAreServedWhileTheDatabaseIsLost() throws Exception {
        Path pgDir = Files.createTempDirectory("mobius-docs-pg-");
        Path dataDir = Files.createTempDirectory("mobius-docs-node-");
        EmbeddedPostgres pg = EmbeddedPostgres.start(pgDir, false);
        try {
            String url = "postgres://" + pg.user() + ":" + pg.password() + "@127.0.0.1:" + pg.port() + "/postgres";
            ServerConfig config = new ServerConfig(
                            "127.0.0.1",
                            0,
                            url,
                            dataDir,
                            false,
                            TestServer.BOOTSTRAP_KEY,
                            false,
                            new RateLimiter.Limits(0, 0, 0))
                    .withMasterKey(TestServer.MASTER_KEY);
            try (MobiusServer node = MobiusServer.start(config)) {
                Api local = new Api("http://127.0.0.1:" + node.port());
                pg.close();
                long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
                while (local.get("/readyz", null).status() != 503 && System.nanoTime() < deadline) {
                    Thread.sleep(100);
                }
                assertEquals(503, local.get("/readyz", null).status(), "the database is lost");
                Api.Reply projects = local.get("/v1/projects", TestServer.BOOTSTRAP_KEY);
                assertEquals(503, projects.status(), projects.toString());
                assertEquals("database_unavailable", projects.errorCode());

                Api.Reply page = local.get("/docs", null);
                assertEquals(200, page.status(), page.toString());
                for (String reference : references(page.raw().body())) {
                    assertEquals(200, local.get(reference, null).status(), reference + " while the database is lost");
                }
                assertEquals(200, local.get("/openapi.yaml", null).status());
                Api.Reply unknown = local.get("/docs/..%2Fopenapi.yaml", null);
                assertEquals(404, unknown.status(), unknown.toString());
                // The gate lets one segment under /docs through, nothing deeper.
                Api.Reply deeper = local.get("/docs/a/b", null);
                assertEquals(503, deeper.status(), deeper.toString());
            }
        } finally {
            pg.close();
            TestServer.deleteTree(pgDir);
            TestServer.deleteTree(dataDir);
        }
    }

    private HttpResponse<byte[]> fetch(String path, Map<String, String> headers) {
        HttpRequest.Builder request =
                HttpRequest.newBuilder(URI.create(server.baseUrl() + path)).timeout(Duration.ofSeconds(30));
        headers.forEach(request::header);
        try {
            return http.send(request.GET().build(), HttpResponse.BodyHandlers.ofByteArray());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    static List<String> references(String html) {
        List<String> found = new ArrayList<>();
        Matcher m = REFERENCE.matcher(html);
        while (m.find()) {
            found.add(m.group(1));
        }
        assertFalse(found.isEmpty(), "the page refers to its files");
        return found;
    }

    private static String inlineScript(String html) {
        Matcher m = INLINE_SCRIPT.matcher(html);
        assertTrue(m.find(), "the page starts the renderer in an inline script");
        return m.group(1);
    }

    private static String webjarVersion() {
        Properties properties = new Properties();
        try (InputStream in = DocsPageTest.class
                .getClassLoader()
                .getResourceAsStream("META-INF/maven/org.webjars/swagger-ui/pom.properties")) {
            properties.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return properties.getProperty("version");
    }

    private static byte[] webjarFile(String name) {
        String resource = "META-INF/resources/webjars/swagger-ui/" + webjarVersion() + "/" + name;
        try (InputStream in = DocsPageTest.class.getClassLoader().getResourceAsStream(resource)) {
            assertNotNull(in, resource);
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
