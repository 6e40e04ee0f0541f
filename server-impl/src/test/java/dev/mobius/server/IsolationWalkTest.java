package dev.mobius.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.mobius.server.http.OperationCatalog;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A key of project A, even an Owner's, gets 404 from every route of project B, and B is left untouched. */
class IsolationWalkTest {

    @Test
    void everyProjectRouteOfAnotherProjectIsNotFound() {
        try (TestServer server = TestServer.start()) {
            Api api = new Api(server.baseUrl());
            Fixtures fx = new Fixtures(api, TestServer.BOOTSTRAP_KEY);
            fx.project("Alpha");
            fx.project("Beta");
            Fixtures.Key alpha = fx.key("alpha", "alpha-owner"); // holds Owner in alpha
            String betaBefore =
                    api.get("/v1/projects/beta", TestServer.BOOTSTRAP_KEY).raw().body();

            List<String> failures = new ArrayList<>();
            int walked = 0;
            for (OperationCatalog.OperationInfo op : OperationWalk.securedOperations()) {
                if (!OperationWalk.namesProject(op)) {
                    continue;
                }
                walked++;
                Api.Reply reply = OperationWalk.send(api, op, "beta", alpha.raw());
                if (reply.status() != 404 || !"not_found".equals(reply.errorCode())) {
                    failures.add(
                            op.operationId() + " " + op.method() + " " + OperationWalk.path(op, "beta") + ": " + reply);
                }
                // The same key keeps working on its own project.
                Api.Reply own = OperationWalk.send(api, op, "alpha", alpha.raw());
                if (own.status() == 403 && "forbidden".equals(own.errorCode())) {
                    failures.add(op.operationId() + " refused its own Owner: " + own);
                }
            }
            assertTrue(walked > 20, "walked " + walked + " project operations");
            if (!failures.isEmpty()) {
                fail(String.join("\n  ", failures));
            }
            assertEquals(
                    betaBefore,
                    api.get("/v1/projects/beta", TestServer.BOOTSTRAP_KEY).raw().body(),
                    "project B is unchanged");
        }
    }
}
