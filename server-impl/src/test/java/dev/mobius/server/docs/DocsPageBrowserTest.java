package dev.mobius.server.docs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mobius.server.TestServer;
import dev.mobius.server.http.OperationCatalog;
import io.swagger.v3.oas.models.OpenAPI;
import io.swagger.v3.oas.models.Operation;
import io.swagger.v3.oas.models.tags.Tag;
import io.swagger.v3.parser.OpenAPIV3Parser;
import io.swagger.v3.parser.core.models.ParseOptions;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The API reference page in a real browser: headless Chromium whose network reaches loopback only
 * opens a deep link, and the page must list every tag of the contract, expand the linked operation
 * with its request example, and have asked this server, and nothing else, for what it loaded. The
 * same check as {@code bin/check-docs-page}, against the test server.
 */
@org.junit.jupiter.api.Tag("slow")
class DocsPageBrowserTest {
    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    private static final String TAG = "runs";
    private static final String OPERATION = "startAutomationRun";
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void chromiumRendersTheContractFromThisServerOnly() throws Exception {
        Assumptions.assumeTrue(
                Files.isExecutable(CHROMIUM),
                "no browser check: " + CHROMIUM + " is missing (Debian: apt-get install -y chromium)");
        OpenAPI contract = contract();
        Path work = Files.createTempDirectory("mobius-docs-browser-");
        try (TestServer server = TestServer.start()) {
            String origin = server.baseUrl();
            Path netLog = work.resolve("netlog.json");
            String dom =
                    chromium(work, "--log-net-log=" + netLog, "--dump-dom", origin + "/docs#/" + TAG + "/" + OPERATION);

            List<String> missing = new ArrayList<>();
            for (Tag tag : contract.getTags()) {
                if (!dom.contains("data-tag=\"" + tag.getName() + "\"")) {
                    missing.add(tag.getName());
                }
            }
            assertEquals(List.of(), missing, "every tag of the contract is a group on the page");
            assertTrue(
                    dom.contains("is-open\" id=\"operations-" + TAG + "-" + OPERATION + "\""),
                    "the deep link expands " + OPERATION);

            String text = withoutWhitespace(textOf(dom));
            String example = withoutWhitespace(JSON.writeValueAsString(firstRequestExample(contract)));
            assertTrue(text.contains("ExampleValueSchema" + example), "the request example " + example + " is shown");
            assertTrue(text.contains(origin + "-Thisserver"), "the page sends requests to " + origin);

            List<String> requests = pageRequests(netLog, origin);
            assertTrue(requests.contains(origin + "/openapi.yaml"), "the page read the contract: " + requests);
            assertTrue(
                    requests.stream().anyMatch(u -> u.startsWith(origin + "/docs/swagger-ui-bundle.js")),
                    "the page loaded the renderer: " + requests);
            for (String url : requests) {
                assertTrue(url.startsWith(origin + "/"), "a request of the page went elsewhere: " + url);
            }
        } finally {
            TestServer.deleteTree(work);
        }
    }

    private static String chromium(Path work, String... arguments) throws Exception {
        List<String> command = new ArrayList<>(List.of(
                CHROMIUM.toString(),
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-features=AutofillServerCommunication",
                // Loopback only: loopback goes direct, anything else to a proxy nobody runs.
                "--proxy-server=socks5://127.0.0.1:9",
                "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
                "--virtual-time-budget=10000",
                // The page renders only the operation groups inside the window (a virtual list once
                // the contract is large): a window tall enough to hold them all.
                "--window-size=1280,30000",
                "--user-data-dir=" + work.resolve("profile")));
        command.addAll(List.of(arguments));
        Path out = work.resolve("dom.html");
        Process browser = new ProcessBuilder(command)
                .redirectOutput(out.toFile())
                .redirectError(work.resolve("chromium.log").toFile())
                .start();
        if (!browser.waitFor(120, TimeUnit.SECONDS)) {
            browser.destroyForcibly();
            throw new AssertionError("Chromium did not finish within 120 s");
        }
        assertEquals(0, browser.exitValue(), () -> "Chromium failed: " + read(work.resolve("chromium.log")));
        return read(out);
    }

    /** The URLs the page asked for: its own load and what its origin initiated. */
    private static List<String> pageRequests(Path netLog, String origin) throws Exception {
        JsonNode log = JSON.readTree(netLog.toFile());
        int start = log.path("constants")
                .path("logEventTypes")
                .path("URL_REQUEST_START_JOB")
                .asInt(-1);
        assertTrue(start >= 0, "the network log names its event types");
        List<String> urls = new ArrayList<>();
        for (JsonNode event : log.path("events")) {
            JsonNode params = event.path("params");
            if (event.path("type").asInt() == start
                    && (origin.equals(params.path("initiator").asText())
                            || "main frame".equals(params.path("request_type").asText()))) {
                urls.add(params.path("url").asText());
            }
        }
        return urls;
    }

    private static OpenAPI contract() {
        ParseOptions options = new ParseOptions();
        options.setResolve(true);
        options.setResolveFully(true);
        return new OpenAPIV3Parser()
                .readContents(OperationCatalog.load().document(), null, options)
                .getOpenAPI();
    }

    private static Object firstRequestExample(OpenAPI contract) {
        for (var path : contract.getPaths().values()) {
            for (Operation op : path.readOperations()) {
                if (OPERATION.equals(op.getOperationId())) {
                    return op.getRequestBody()
                            .getContent()
                            .get("application/json")
                            .getExamples()
                            .values()
                            .iterator()
                            .next()
                            .getValue();
                }
            }
        }
        throw new AssertionError(OPERATION + " is not in the contract");
    }

    private static String textOf(String html) {
        return html.replaceAll("<[^>]*>", "")
                .replace("&nbsp;", " ")
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&amp;", "&");
    }

    private static String withoutWhitespace(String text) {
        return text.replaceAll("\\s+", "");
    }

    private static String read(Path file) {
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (java.io.IOException e) {
            return "(cannot read " + file + ": " + e + ")";
        }
    }
}
