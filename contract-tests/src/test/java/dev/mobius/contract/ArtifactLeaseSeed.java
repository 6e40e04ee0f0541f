package dev.mobius.contract;

import dev.mobius.server.MobiusServer;
import dev.mobius.server.jobs.JobDispatch;
import dev.mobius.server.jobs.JobQueue;
import java.util.List;
import java.util.Map;

/**
 * The job lease the contract's artifact uploads are made under (x-replay-setup: artifact-lease).
 * Only a worker holding a live job lease may upload, and a lease token comes from a claim on the
 * worker socket, which no example can hand to a later one. So the replay of a server of its own
 * queues a job in acme-payments and claims it through the server's own job queue, as a worker's
 * claim does, then gives that lease the token the examples send ({@link #TOKEN}): the examples are
 * fixed text, the lease behind the token is real (live, claimed, of that project), and the server
 * checks it exactly as it checks a worker's.
 */
final class ArtifactLeaseSeed {
    /** The X-Mobius-Lease-Token value of the createArtifact examples. */
    static final String TOKEN = "lease_5f0c2a9d7e4b1c3a8f6e2d4b9a7c1e30";

    private static final String QUEUE = "artifact-examples";
    private static final String ACTION = "reports.publish";

    private ArtifactLeaseSeed() {}

    static void seed(MobiusServer server) {
        JobQueue jobs = server.jobs();
        Map<String, Object> project = server.database()
                .jdbi()
                .withHandle(h -> h.createQuery("SELECT id, org_id FROM projects WHERE handle = 'acme-payments'")
                        .mapToMap()
                        .one());
        String projectId = (String) project.get("id");
        String orgId = (String) project.get("org_id");
        server.database()
                .jdbi()
                .useTransaction(h -> jobs.enqueue(
                        h,
                        new JobDispatch.JobRequest(
                                orgId, projectId, null, null, null, ACTION, Map.of(), QUEUE, List.of(), null)));
        List<JobQueue.Leased> claimed = jobs.claim(
                projectId,
                "wsess_artifactexamples",
                1,
                new JobQueue.Filter(List.of(QUEUE), List.of(ACTION), List.of()));
        if (claimed.size() != 1) {
            throw new IllegalStateException("the example job was not claimed: " + claimed);
        }
        int changed = server.database()
                .jdbi()
                .withHandle(h -> h.createUpdate(
                                "UPDATE jobs SET lease_token = :example WHERE id = :id AND lease_token = :claimed")
                        .bind("example", TOKEN)
                        .bind("id", claimed.get(0).id())
                        .bind("claimed", claimed.get(0).leaseToken())
                        .execute());
        if (changed != 1) {
            throw new IllegalStateException("the example lease was lost before it could be named");
        }
    }
}
