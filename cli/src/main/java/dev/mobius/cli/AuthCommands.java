package dev.mobius.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code auth login|logout|status}: the key kept in the user's config file (mode 0600). */
final class AuthCommands {
    private AuthCommands() {}

    @Command(
            name = "login",
            mixinStandardHelpOptions = true,
            description = {
                "Checks an API key against the server and saves it, with --api-url and --project, in the user's"
                        + " config file (mode 0600) for later commands.",
                "The key comes from --api-key, MOBIUS_API_KEY, or the first line of standard input."
            })
    static final class Login implements Cli.Runnable {
        @Option(names = "--with-key-stdin", description = "Read the key from standard input.")
        boolean stdin;

        @Override
        public int run(Context ctx) throws IOException {
            String key = stdin ? null : ctx.flag("--api-key");
            if (key == null && !stdin) {
                key = ctx.env().get("MOBIUS_API_KEY");
            }
            if (key == null || key.isBlank()) {
                String line = new BufferedReader(new InputStreamReader(ctx.in(), StandardCharsets.UTF_8)).readLine();
                key = line == null ? null : line.trim();
            }
            if (key == null || key.isBlank()) {
                throw CliException.usage("no key given: --api-key, MOBIUS_API_KEY or standard input");
            }
            ObjectNode saved = ctx.configFile().read();
            saved.put("api_url", ctx.apiUrl());
            saved.put("api_key", key);
            String explicit = ctx.flag("--project");
            if (explicit == null) {
                explicit = ctx.env().get("MOBIUS_PROJECT");
            }
            if (explicit != null && !explicit.isBlank()) {
                saved.put("project", explicit);
            }
            // The key is proved before it is kept: its project must answer.
            ctx.useKey(key);
            String project = ctx.project();
            ctx.json("GET", "/v1/projects/" + OperationCommand.enc(project), Map.of(), null);
            ctx.configFile().write(saved);
            ctx.err()
                    .println("logged in to " + ctx.apiUrl() + " (project " + project + "); key saved in "
                            + ctx.configFile().path());
            return 0;
        }
    }

    @Command(name = "logout", mixinStandardHelpOptions = true, description = "Removes the saved key.")
    static final class Logout implements Cli.Runnable {
        @Override
        public int run(Context ctx) {
            ObjectNode saved = ctx.configFile().read();
            if (saved.remove("api_key") != null) {
                ctx.configFile().write(saved);
                ctx.err().println("key removed from " + ctx.configFile().path());
            }
            return 0;
        }
    }

    @Command(
            name = "status",
            mixinStandardHelpOptions = true,
            description = "Shows the server, project and key in use, and whether the server accepts the key.")
    static final class Status implements Cli.Runnable {
        @Override
        public int run(Context ctx) {
            String key = ctx.requireApiKey();
            String project = ctx.project();
            JsonNode p = ctx.json("GET", "/v1/projects/" + OperationCommand.enc(project), Map.of(), null);
            ObjectNode status = Context.JSON.createObjectNode();
            status.put("api_url", ctx.apiUrl());
            status.put("project", project);
            status.put("project_id", p == null ? null : p.path("id").asText());
            status.put("api_key", key.substring(0, Math.min(8, key.length())) + "...");
            Output.print(ctx, status);
            return 0;
        }
    }
}
