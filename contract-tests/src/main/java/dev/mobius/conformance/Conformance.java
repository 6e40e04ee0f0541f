package dev.mobius.conformance;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The conformance kit's command line: replays the contract this jar was built with against a
 * deployment and reports per operation.
 *
 * <pre>
 * java -jar mobius-conformance.jar --url https://mobius.example.com --key mbx_... [--junit-xml results.xml] [--fresh]
 *     [--mogplex-token mog_...]
 * </pre>
 *
 * <p>With {@code --mogplex-token} the Mogplex contract is replayed as well, with that token as the
 * default credential; it should be the token of a user made for the kit ({@code mobius-server
 * add-user}), whose personal project holds nothing else.
 *
 * <p>Exit status: 0 when every case passed (or was skipped only because the deployment is
 * shared), 1 when any failed, 2 on a usage error.
 */
public final class Conformance {
    private Conformance() {}

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /** Runs the kit; returns the exit status. */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        String url = System.getenv("MOBIUS_URL");
        String key = System.getenv("MOBIUS_API_KEY");
        String mogplexToken = System.getenv("MOGPLEX_TOKEN");
        Path junit = Path.of("mobius-conformance.xml");
        boolean fresh = false;
        List<String> rest = new ArrayList<>(List.of(args));
        try {
            while (!rest.isEmpty()) {
                String arg = rest.remove(0);
                switch (arg) {
                    case "--url" -> url = value(arg, rest);
                    case "--key" -> key = value(arg, rest);
                    case "--junit-xml" -> junit = Path.of(value(arg, rest));
                    case "--fresh" -> fresh = true;
                    case "--mogplex-token" -> mogplexToken = value(arg, rest);
                    case "-h", "--help" -> {
                        out.println(usage());
                        return 0;
                    }
                    default -> throw new IllegalArgumentException("unknown argument " + arg);
                }
            }
            if (url == null || url.isBlank() || key == null || key.isBlank()) {
                throw new IllegalArgumentException("--url and --key are required (or MOBIUS_URL and MOBIUS_API_KEY)");
            }
        } catch (IllegalArgumentException e) {
            err.println(e.getMessage());
            err.println(usage());
            return 2;
        }
        ContractReplay.Target target = new ContractReplay.Target(url, key, !fresh);
        Report report = new ContractReplay(ContractReplay.bundledContract(), target).run();
        if (mogplexToken != null && !mogplexToken.isBlank()) {
            report = report.plus(ContractReplay.mogplex(ContractReplay.bundledMogplexContract(), url, mogplexToken)
                    .run());
        }
        out.print(report.table());
        try {
            report.writeJUnitXml(junit);
            out.println("JUnit XML: " + junit.toAbsolutePath());
        } catch (java.io.IOException e) {
            err.println("cannot write " + junit + ": " + e.getMessage());
            return 1;
        }
        return report.failures().isEmpty() ? 0 : 1;
    }

    private static String value(String flag, List<String> rest) {
        if (rest.isEmpty()) {
            throw new IllegalArgumentException(flag + " needs a value");
        }
        return rest.remove(0);
    }

    private static String usage() {
        return """
                usage: java -jar mobius-conformance.jar --url <base url> --key <organization API key> [--junit-xml <file>] [--fresh]
                  --url        the deployment's origin, e.g. https://mobius.example.com (or MOBIUS_URL)
                  --key        an organization key, e.g. the bootstrap key (or MOBIUS_API_KEY); the kit creates,
                               then archives and deletes, projects of its own
                  --junit-xml  where to write the JUnit XML report (default mobius-conformance.xml)
                  --mogplex-token  also replay the Mogplex API with this personal access token (or MOGPLEX_TOKEN),
                               best the token of a user made for the kit (mobius-server add-user)
                  --fresh      the deployment is freshly installed and used by nothing else: compare every
                               example in full, on the examples' own project handles, and leave the data in place""";
    }
}
