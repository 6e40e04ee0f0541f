package dev.mobius.server;

import dev.mobius.server.http.OperationCatalog;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Every secured operation of the contract, as a request against a given project: the walks
 * below are generated from the contract, so an operation added later is walked without a change
 * here. Ids that are not the project are placeholders that name nothing.
 */
final class OperationWalk {
    static final String MISSING_ID = "zz_00000000000000000000000000";
    /** Operations whose body is a form (an upload) rather than JSON: walked with an empty form. */
    static final Set<String> FORMS = Set.of("createArtifact");

    private OperationWalk() {}

    static List<OperationCatalog.OperationInfo> securedOperations() {
        return OperationCatalog.load().all().stream()
                .filter(OperationCatalog.OperationInfo::authenticated)
                .sorted(java.util.Comparator.comparing(OperationCatalog.OperationInfo::operationId))
                .toList();
    }

    /** Whether the operation is about one project named in its path. */
    static boolean namesProject(OperationCatalog.OperationInfo op) {
        return op.path().contains("{project}")
                || op.path().equals("/v1/projects/{id}")
                || op.path().startsWith("/v1/projects/{id}/");
    }

    static String path(OperationCatalog.OperationInfo op, String project) {
        String path = op.path().replace("{project}", project);
        if (op.path().startsWith("/v1/projects/{id}")) {
            path = path.replaceFirst("\\{id}", project);
        }
        return path.replaceAll("\\{[^}]+}", MISSING_ID);
    }

    /**
     * Sends the operation with an empty JSON body where it takes one (an empty form for uploads), then restores the project
     * (an allowed archiveProject would otherwise let a later deleteProject remove it mid-walk).
     */
    static Api.Reply send(Api api, OperationCatalog.OperationInfo op, String project, String key) {
        boolean hasBody = List.of("POST", "PUT", "PATCH").contains(op.method());
        Api.Reply reply = FORMS.contains(op.operationId())
                ? api.call(
                        op.method(),
                        path(op, project),
                        key,
                        "--walk--\r\n",
                        Map.of("Content-Type", "multipart/form-data; boundary=walk"))
                : api.call(op.method(), path(op, project), key, hasBody ? "{}" : null, Map.of());
        api.post("/v1/projects/" + project + "/restore", TestServer.BOOTSTRAP_KEY, null);
        return reply;
    }
}
