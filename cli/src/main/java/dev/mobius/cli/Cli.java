package dev.mobius.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.ScopeType;

/**
 * The {@code mobius} command tree: one group per tag of the contract with one command per operation
 * (from the operation table generated at build time), plus the hand-written helpers.
 */
public final class Cli {
    /** What a command does once its arguments are parsed. */
    public interface Runnable {
        int run(Context ctx) throws Exception;
    }

    static final Set<String> GLOBAL_OPTIONS = Set.of("--api-url", "--api-key", "--project", "--output", "-o");

    @Command(
            name = "mobius",
            mixinStandardHelpOptions = true,
            versionProvider = Cli.Version.class,
            description = {
                "The Mobius command line: every /v1 operation, grouped by the contract's tags, and helpers.",
                "Settings: flag, else environment variable (MOBIUS_API_URL, MOBIUS_API_KEY, MOBIUS_PROJECT,"
                        + " MOBIUS_OUTPUT), else the file `mobius auth login` writes."
            },
            footer = {"", "Errors print `<code>: <message>` on stderr; the exit status is 1 (2 for usage errors)."})
    static final class Root implements Runnable {
        @Option(
                names = "--api-url",
                scope = ScopeType.INHERIT,
                paramLabel = "<url>",
                description = "Server address (env MOBIUS_API_URL; default " + Context.DEFAULT_API_URL + ").")
        String apiUrl;

        @Option(
                names = "--api-key",
                scope = ScopeType.INHERIT,
                paramLabel = "<key>",
                description = "API key, mbx_... (env MOBIUS_API_KEY).")
        String apiKey;

        @Option(
                names = "--project",
                scope = ScopeType.INHERIT,
                paramLabel = "<handle>",
                description = "Project handle (env MOBIUS_PROJECT; default: the key's project suffix, else default).")
        String project;

        @Option(
                names = {"--output", "-o"},
                scope = ScopeType.INHERIT,
                paramLabel = "json|table",
                description = "Output format (env MOBIUS_OUTPUT; default json).")
        String output;

        @Override
        public int run(Context ctx) {
            ctx.err().println(new CommandLine(this).getUsageMessage());
            return CliException.USAGE;
        }
    }

    /** The version in the jar's manifest. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Cli.class.getPackage().getImplementationVersion();
            return new String[] {"mobius " + (v == null ? "(development build)" : v)};
        }
    }

    /** A command group: alone, it prints its commands. */
    static final class Group implements Runnable {
        CommandSpec spec;

        @Override
        public int run(Context ctx) {
            ctx.err().print(spec.commandLine().getUsageMessage());
            return CliException.USAGE;
        }
    }

    private Cli() {}

    static CommandLine commandLine() {
        CommandLine root = new CommandLine(new Root());
        JsonNode table = OperationCommand.table();
        Map<String, CommandLine> groups = new LinkedHashMap<>();
        for (JsonNode g : table.path("groups")) {
            groups.put(
                    g.path("name").asText(),
                    group(root, g.path("name").asText(), g.path("description").asText()));
        }
        for (JsonNode op : table.path("operations")) {
            CommandLine group = groups.computeIfAbsent(op.path("group").asText(), n -> group(root, n, ""));
            group.addSubcommand(op.path("command").asText(), new CommandLine(OperationCommand.spec(op)));
        }
        // The hand-written helpers, next to the generated commands of their group.
        groups.computeIfAbsent("runs", n -> group(root, n, "")).addSubcommand("watch", new RunsCommands.Watch());
        groups.computeIfAbsent("webhooks", n -> group(root, n, "")).addSubcommand("verify", new WebhooksVerify());
        CommandLine auth = group(root, "auth", "Credentials saved for later commands.");
        auth.addSubcommand("login", new AuthCommands.Login());
        auth.addSubcommand("logout", new AuthCommands.Logout());
        auth.addSubcommand("status", new AuthCommands.Status());
        root.addSubcommand("worker", new WorkerCommand());
        return root;
    }

    private static CommandLine group(CommandLine root, String name, String description) {
        Group g = new Group();
        CommandSpec spec = CommandSpec.wrapWithoutInspection(g);
        spec.name(name);
        spec.mixinStandardHelpOptions(true);
        spec.usageMessage().description(description);
        g.spec = spec;
        CommandLine cl = new CommandLine(spec);
        root.addSubcommand(name, cl);
        return cl;
    }

    /** Runs the command line and returns its exit status. */
    public static int run(String[] args, Map<String, String> env, InputStream in, PrintStream out, PrintStream err) {
        CommandLine cl = commandLine();
        cl.setOut(new PrintWriter(new java.io.OutputStreamWriter(out, StandardCharsets.UTF_8), true));
        cl.setErr(new PrintWriter(new java.io.OutputStreamWriter(err, StandardCharsets.UTF_8), true));
        cl.setExecutionStrategy(pr -> execute(pr, env, in, out, err));
        return cl.execute(args);
    }

    private static int execute(
            ParseResult pr, Map<String, String> env, InputStream in, PrintStream out, PrintStream err) {
        Integer help = CommandLine.executeHelpRequest(pr);
        if (help != null) {
            return help;
        }
        List<ParseResult> levels = new ArrayList<>();
        for (ParseResult p = pr; p != null; p = p.hasSubcommand() ? p.subcommand() : null) {
            levels.add(p);
        }
        ParseResult leaf = levels.get(levels.size() - 1);
        Object command = leaf.commandSpec().userObject();
        Context ctx = new Context(levels, env, in, out, err);
        try {
            if (!(command instanceof Runnable runnable)) {
                err.println(leaf.commandSpec().commandLine().getUsageMessage());
                return CliException.USAGE;
            }
            return runnable.run(ctx);
        } catch (CliException e) {
            out.flush();
            err.println(e.code() + ": " + e.getMessage());
            if (e.details() != null) {
                err.println("details: " + e.details());
            }
            return e.exitCode();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            err.println("interrupted: " + e.getMessage());
            return CliException.API;
        } catch (Exception e) {
            err.println("error: " + (e.getMessage() == null ? e.toString() : e.getMessage()));
            return CliException.API;
        } finally {
            out.flush();
            err.flush();
        }
    }
}
