package dev.mobius.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.InputStream;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.ParseResult;

/** The command tree against the contract: every /v1 operation has its command. */
class CommandTreeTest {
    @Test
    void everyV1OperationHasACommand() throws Exception {
        JsonNode contract;
        try (InputStream in = getClass().getClassLoader().getResourceAsStream("openapi/openapi-public.yaml")) {
            contract = new ObjectMapper(new YAMLFactory()).readTree(in);
        }
        Set<String> expected = new TreeSet<>();
        for (Map.Entry<String, JsonNode> path : contract.get("paths").properties()) {
            if (path.getKey().startsWith("/v1/")) {
                for (Map.Entry<String, JsonNode> m : path.getValue().properties()) {
                    if (m.getValue().has("operationId")) {
                        expected.add(m.getValue().get("operationId").asText());
                    }
                }
            }
        }
        CommandLine root = Cli.commandLine();
        Set<String> covered = new TreeSet<>();
        for (CommandLine group : root.getSubcommands().values()) {
            for (CommandLine command : group.getSubcommands().values()) {
                if (command.getCommandSpec().userObject() instanceof OperationCommand op) {
                    covered.add(op.operationId());
                }
            }
        }
        // The worker socket is spoken by `mobius worker`.
        assertTrue(root.getSubcommands().containsKey("worker"));
        covered.add("openWorkerSocket");
        assertEquals(expected, covered);
    }

    @Test
    void commandsAreNamedAfterTheirOperationWithoutTheGroupsNoun() {
        CommandLine root = Cli.commandLine();
        for (String[] c : new String[][] {
            {"runs", "start"},
            {"runs", "list-events"},
            {"runs", "watch"},
            {"api-keys", "create"},
            {"audit-logs", "list-org"},
            {"audit-logs", "list"},
            {"agents", "stream-session-events"},
            {"webhooks", "verify"},
            {"auth", "login"},
            {"tables", "bulk-insert-rows"}
        }) {
            assertTrue(root.getSubcommands().get(c[0]).getSubcommands().containsKey(c[1]), String.join(" ", c));
        }
    }

    @Test
    void globalOptionsWorkBeforeAndAfterTheCommand() {
        ParseResult pr = Cli.commandLine()
                .parseArgs("--api-url", "http://a", "automations", "get", "x", "--output", "table", "--project", "p");
        ParseResult leaf = pr.subcommand().subcommand();
        assertEquals("x", leaf.matchedPositionals().get(0).getValue());
        assertEquals("table", leaf.matchedOptionValue("--output", ""));
        assertEquals("http://a", pr.matchedOptionValue("--api-url", ""));
    }

    @Test
    void aKeySuffixNamesTheProject() {
        assertEquals("acme", Context.keyProject("mbx_abc.acme"));
        assertEquals(null, Context.keyProject("mbx_abc"));
    }
}
