package dev.mobius.contract;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import dev.mobius.conformance.ContractReplay;
import dev.mobius.conformance.Outcome;
import dev.mobius.conformance.Report;
import dev.mobius.server.TestServer;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * Replays every example of the contract. Without {@code -Dmobius.url} against a server booted on a
 * fresh database, where every example is compared in full; with {@code -Dmobius.url=...
 * -Dmobius.key=...} against that deployment, as the conformance jar does (shared unless {@code
 * -Dmobius.fresh=true}). Either way the per-operation table is printed and JUnit XML written to
 * {@code target/conformance/}.
 */
class ContractReplayTest {
    @Test
    void everyExampleReplaysAgainstTheServer() throws Exception {
        String contract = ContractReplay.bundledContract();
        String url = System.getProperty("mobius.url", "");
        Report report;
        if (url.isBlank()) {
            // The build's own check: the contract must be complete before anything is replayed.
            java.util.List<String> problems = new ContractReplay(
                            contract, new ContractReplay.Target("http://unused", "unused", false))
                    .incompleteness();
            if (!problems.isEmpty()) {
                fail("the contract is incomplete:\n  " + String.join("\n  ", problems));
            }
            try (TestServer server = TestServer.start();
                    EnvironmentWorkerSeed environmentWorker =
                            new EnvironmentWorkerSeed(server.baseUrl(), TestServer.BOOTSTRAP_KEY, server.server())) {
                report = new ContractReplay(
                                contract, new ContractReplay.Target(server.baseUrl(), TestServer.BOOTSTRAP_KEY, false))
                        .withSetup("agent-sessions", () -> AgentSessionsSeed.seed(server.server()))
                        .withSetup("environment-worker", environmentWorker::start)
                        .withSetup("environment-worker-gone", environmentWorker::stop)
                        .withSetup("git-token-source", environmentWorker::gitTokenSource)
                        .withSetup("artifact-lease", () -> ArtifactLeaseSeed.seed(server.server()))
                        .run();
            }
        } else {
            report = new ContractReplay(
                            contract,
                            new ContractReplay.Target(
                                    url, System.getProperty("mobius.key", ""), !Boolean.getBoolean("mobius.fresh")))
                    .run();
        }
        System.out.print(report.table());
        report.writeJUnitXml(Path.of("target", "conformance", "TEST-mobius-conformance.xml"));
        if (!report.failures().isEmpty()) {
            fail(report.failures().size() + " case(s) failed:\n  "
                    + String.join(
                            "\n  ",
                            report.failures().stream()
                                    .map(o -> o.label() + ": " + o.detail())
                                    .toList()));
        }
        // On a server of its own nothing may be skipped: every prerequisite was there.
        if (url.isBlank()) {
            assertEquals(0, report.count(Outcome.Verdict.SKIPPED), report.table());
        }
    }
}
