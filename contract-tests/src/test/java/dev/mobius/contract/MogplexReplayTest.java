package dev.mobius.contract;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import dev.mobius.conformance.ContractReplay;
import dev.mobius.conformance.Outcome;
import dev.mobius.conformance.Report;
import dev.mobius.server.TestServer;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Replays every example of the Mogplex contract against a server booted on a fresh database, with
 * the first user's token as the default credential, exactly as {@link ContractReplayTest} does for
 * {@code /v1}.
 */
class MogplexReplayTest {
    @Test
    void everyMogplexExampleReplaysAgainstTheServer() throws Exception {
        String contract = ContractReplay.bundledMogplexContract();
        java.util.List<String> problems =
                ContractReplay.mogplex(contract, "http://unused", "unused").incompleteness();
        if (!problems.isEmpty()) {
            fail("the Mogplex contract is incomplete:\n  " + String.join("\n  ", problems));
        }
        Report report;
        // The GitHub webhook route is served only with a secret; the replay signs its examples with it.
        try (TestServer server = TestServer.with(
                c -> c.withMogplex(c.mogplex().withGithubWebhookSecret(ControlSessionsSeed.GITHUB_WEBHOOK_SECRET)))) {
            ContractReplay replay = ContractReplay.mogplex(contract, server.baseUrl(), TestServer.MOGPLEX_TOKEN);
            for (Map.Entry<String, String> token :
                    MogplexUsersSeed.seed(server.server()).entrySet()) {
                replay.withCredential(token.getKey(), token.getValue());
            }
            MogplexWorkerSeed.install(replay, server); // sandboxes and runs: the user's worker, limits
            MogplexRepositoriesSeed.install(replay, server); // discovery: repositories and MCP servers
            ControlSessionsSeed.install(replay, server); // control-plane identity: sessions, webhook secret
            ControlModelsSeed.install(replay, server); // control-plane routes: a model catalogue
            report = replay.run();
        }
        System.out.print(report.table());
        report.writeJUnitXml(Path.of("target", "conformance", "TEST-mogplex-conformance.xml"));
        if (!report.failures().isEmpty()) {
            fail(report.failures().size() + " case(s) failed:\n  "
                    + String.join(
                            "\n  ",
                            report.failures().stream()
                                    .map(o -> o.label() + ": " + o.detail())
                                    .toList()));
        }
        assertEquals(0, report.count(Outcome.Verdict.SKIPPED), report.table());
    }
}
