package dev.mobius.server.control.sessions;

import dev.mobius.server.ids.Ids;
import dev.mobius.server.users.UserRow;
import java.util.LinkedHashMap;
import java.util.Map;
import org.jdbi.v3.core.Jdbi;

/**
 * The account payload of {@code GET /api/auth/user} on a self-hosted server: the GitHub fields
 * describe the repositories the operator registered in the user's personal project (what webhook
 * routing and automations work on); no GitHub App, OAuth or Vercel integration runs here.
 */
public final class AuthUserView {
    private final Jdbi jdbi;
    private final boolean platformModels;

    /** @param platformModels whether the server generates with a model endpoint of its own */
    public AuthUserView(Jdbi jdbi, boolean platformModels) {
        this.jdbi = jdbi;
        this.platformModels = platformModels;
    }

    public Map<String, Object> of(UserRow user, String csrfToken) {
        Map<String, Object> counts =
                jdbi.withHandle(h -> h.createQuery("SELECT count(*) FILTER (WHERE NOT hidden) AS visible, "
                                + "count(DISTINCT installation_id) FILTER (WHERE NOT hidden) AS installations "
                                + "FROM repositories WHERE project_id = :project")
                        .bind("project", user.projectId())
                        .mapToMap()
                        .one());
        int repos = ((Number) counts.get("visible")).intValue();
        int installations = ((Number) counts.get("installations")).intValue();
        boolean connected = repos > 0;
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("id", Ids.uuidOf(user.id()));
        out.put("email", user.email());
        out.put("username", user.username());
        out.put("name", user.name());
        out.put("avatar_url", null);
        out.put("github_username", null);
        out.put("github_state", connected ? "app_installed_with_synced_repos" : "disconnected");
        out.put("github_connected", connected);
        out.put("github_app_connected", connected);
        out.put("github_connection_mode", connected ? "app" : null);
        out.put("github_app_available", false);
        out.put("github_install_pending", false);
        out.put("github_installation_count", installations);
        out.put("github_synced_repo_count", repos);
        out.put("github_covered_repo_count", repos);
        out.put("github_status_label", connected ? "Repositories registered" : "No repositories");
        out.put(
                "github_status_detail",
                connected
                        ? repos + (repos == 1 ? " repository" : " repositories")
                                + " registered by the operator receive GitHub events."
                        : "Ask the operator of this server to register your repositories.");
        if (connected) {
            Map<String, Object> action = new LinkedHashMap<>();
            action.put("kind", "open_spaces");
            action.put("label", "Open repositories");
            action.put("href", "/projects/repositories");
            out.put("github_primary_action", action);
        } else {
            out.put("github_primary_action", null);
        }
        Map<String, Object> platform = new LinkedHashMap<>();
        platform.put("allowPlatformAi", platformModels);
        platform.put("allowPlatformSandbox", false);
        out.put("platform_access", platform);
        Map<String, Object> vercel = new LinkedHashMap<>();
        vercel.put("platformState", "not_configured");
        vercel.put("personalState", "not_linked");
        vercel.put("linkedProjectState", "none");
        vercel.put("canUsePlatformOps", false);
        vercel.put("canLinkUserBillingProject", false);
        vercel.put("canUseUserBilling", false);
        vercel.put("statusLabel", "Not available");
        vercel.put("statusDetail", "This server does not deploy to Vercel.");
        out.put("vercel", vercel);
        out.put("account_vercel_project_id", null);
        out.put("account_vercel_team_id", null);
        if (csrfToken != null) {
            out.put("csrf_token", csrfToken);
        }
        return out;
    }
}
