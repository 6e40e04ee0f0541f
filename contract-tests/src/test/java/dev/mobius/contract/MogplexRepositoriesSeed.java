package dev.mobius.contract;

import dev.mobius.server.MobiusServer;
import dev.mobius.server.TestServer;
import dev.mobius.server.access.RoleDao;
import dev.mobius.server.db.Daos;
import dev.mobius.server.ids.Ids;
import dev.mobius.server.time.Times;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;

/**
 * What the Mogplex examples work on that no Mogplex operation creates: the operator registers it
 * through {@code /v1} in the first user's personal project ({@code user-admin}) with the
 * organization key.
 *
 * <ul>
 *   <li>x-replay-setup {@code mogplex-repos} ({@link #repositories}): {@code acme/payments} and
 *       {@code acme/web}, both on installation 4242, and {@code acme/legacy}, hidden (listed by no
 *       Mogplex operation).
 *   <li>x-replay-setup {@code mogplex-mcp-servers} ({@link #mcpServers}): the MCP servers
 *       {@code github} (stdio, a secret token) and {@code sentry} (http, disabled, a secret header).
 * </ul>
 *
 * A personal project holds roles for its user only, so the organization key is first given the
 * Admin role there, as an operator who manages users' projects would be.
 */
final class MogplexRepositoriesSeed {
    /** The personal project of the first user, where its repositories live. */
    static final String PROJECT = "user-admin";

    static final List<String> MCP_SERVERS = List.of(
            "{\"name\":\"github\",\"transport\":\"stdio\",\"command\":\"npx\","
                    + "\"args\":[\"-y\",\"@modelcontextprotocol/server-github\"],\"env\":{\"GITHUB_HOST\":\"github.com\"},"
                    + "\"env_secrets\":{\"GITHUB_TOKEN\":\"ghp_example\"},\"extra\":{\"timeout_seconds\":30}}",
            "{\"name\":\"sentry\",\"enabled\":false,\"transport\":\"http\",\"url\":\"https://mcp.sentry.dev/mcp\","
                    + "\"http_headers\":{\"X-Org\":\"acme\"},\"header_secrets\":{\"Authorization\":\"Bearer sntrys_example\"}}");

    static final String ADMIN_ROLE = "role_000000000000000000000admin";

    static final List<String> REPOSITORIES = List.of(
            "{\"full_name\":\"acme/payments\",\"git_url\":\"https://github.com/acme/payments.git\","
                    + "\"default_branch\":\"main\",\"installation_id\":4242}",
            "{\"full_name\":\"acme/web\",\"git_url\":\"https://github.com/acme/web.git\","
                    + "\"default_branch\":\"main\",\"installation_id\":4242}",
            "{\"full_name\":\"acme/legacy\",\"git_url\":\"git@github.com:acme/legacy.git\",\"hidden\":true}");

    private MogplexRepositoriesSeed() {}

    /** Registers both set-ups with the replay of {@code server}. */
    static void install(dev.mobius.conformance.ContractReplay replay, TestServer server) {
        replay.withSetup("mogplex-repos", () -> repositories(server.server(), server.baseUrl()))
                .withSetup("mogplex-mcp-servers", () -> mcpServers(server.server(), server.baseUrl()));
    }

    static void repositories(MobiusServer server, String baseUrl) {
        operatorAccess(server);
        post(baseUrl, "repositories", REPOSITORIES);
    }

    static void mcpServers(MobiusServer server, String baseUrl) {
        operatorAccess(server);
        post(baseUrl, "mcp-servers", MCP_SERVERS);
    }

    /** The organization key's principal holds Admin in the personal project (once). */
    static void operatorAccess(MobiusServer server) {
        server.database().jdbi().useTransaction(h -> {
            String bootstrap = h.createQuery(
                            "SELECT principal_id FROM api_keys WHERE scope = 'org' ORDER BY created_at LIMIT 1")
                    .mapTo(String.class)
                    .one();
            String project = h.createQuery("SELECT id FROM projects WHERE handle = :h")
                    .bind("h", PROJECT)
                    .mapTo(String.class)
                    .one();
            boolean holds = h.createQuery("SELECT EXISTS (SELECT 1 FROM role_assignments WHERE principal_id = :p "
                            + "AND project_id = :project AND role_id = :r)")
                    .bind("p", bootstrap)
                    .bind("project", project)
                    .bind("r", ADMIN_ROLE)
                    .mapTo(Boolean.class)
                    .one();
            if (!holds) {
                Daos.of(h, RoleDao.class)
                        .assign(new Ids().next("ra"), bootstrap, ADMIN_ROLE, project, null, Times.now());
            }
        });
    }

    private static void post(String baseUrl, String collection, List<String> bodies) {
        HttpClient http =
                HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        for (String body : bodies) {
            HttpRequest request = HttpRequest.newBuilder(
                            URI.create(baseUrl + "/v1/projects/" + PROJECT + "/" + collection))
                    .timeout(Duration.ofSeconds(30))
                    .header("Authorization", "Bearer " + TestServer.BOOTSTRAP_KEY)
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(body))
                    .build();
            try {
                HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
                if (response.statusCode() != 201) {
                    throw new IllegalStateException("registering in " + collection + " answered "
                            + response.statusCode() + ": " + response.body());
                }
            } catch (IOException e) {
                throw new IllegalStateException("registering in " + collection + " failed", e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while registering in " + collection, e);
            }
        }
    }
}
