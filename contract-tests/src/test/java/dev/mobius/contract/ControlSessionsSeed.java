package dev.mobius.contract;

import dev.mobius.conformance.ContractReplay;
import dev.mobius.server.TestServer;
import dev.mobius.server.control.sessions.LoginService;
import dev.mobius.server.control.sessions.Passwords;
import dev.mobius.server.control.sessions.SessionStore;
import dev.mobius.server.ids.Ids;
import dev.mobius.server.users.UserService;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.jdbi.v3.core.Jdbi;

/**
 * What the control-plane identity examples sign in with: the first user's password (the one the
 * login example sends), its sessions {@code admin} and {@code admin-logout} (the latter ends in the
 * logout example), the session {@code other} of the second user, and the GitHub webhook secret the
 * replay's server is configured with. The set-up {@code login-locked-out} uses up the login
 * attempts of the username {@code locked-out}.
 */
final class ControlSessionsSeed {
    static final String PASSWORD = "correct horse battery staple";
    static final String GITHUB_WEBHOOK_SECRET = "replay webhook secret";

    private ControlSessionsSeed() {}

    static void install(ContractReplay replay, TestServer server) {
        Jdbi jdbi = server.server().database().jdbi();
        SessionStore sessions = new SessionStore(jdbi, new Ids());
        new LoginService(jdbi, new Passwords(), sessions, 0, 0).setPassword("admin", PASSWORD);
        UserService users = new UserService(jdbi, new Ids());
        for (String[] s : new String[][] {{"admin", "admin"}, {"admin-logout", "admin"}, {"other", "other"}}) {
            SessionStore.Opened opened =
                    sessions.open(users.findByUsername(s[1]).orElseThrow().id(), "127.0.0.1", "replay");
            replay.withSession(s[0], "mobius_session=" + opened.token(), opened.csrfToken());
        }
        replay.withGithubWebhookSecret(GITHUB_WEBHOOK_SECRET);
        replay.withSetup("login-locked-out", () -> lockOut(server.baseUrl()));
    }

    /** Ten failed logins for the username: the eleventh attempt of the minute is refused. */
    private static void lockOut(String baseUrl) {
        HttpClient http = HttpClient.newHttpClient();
        for (int i = 0; i < 10; i++) {
            try {
                http.send(
                        HttpRequest.newBuilder(URI.create(baseUrl + "/api/auth/login"))
                                .header("Content-Type", "application/json")
                                .POST(HttpRequest.BodyPublishers.ofString(
                                        "{\"username\":\"locked-out\",\"password\":\"guess " + i + "\"}"))
                                .build(),
                        HttpResponse.BodyHandlers.discarding());
            } catch (java.io.IOException e) {
                throw new IllegalStateException("login attempt failed", e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
    }
}
