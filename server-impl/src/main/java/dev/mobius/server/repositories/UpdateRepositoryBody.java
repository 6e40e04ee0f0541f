package dev.mobius.server.repositories;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mobius.server.http.JsonBodyRewrite;

/**
 * In a PATCH of a repository, {@code null} removes {@code default_branch}, {@code root_directory}
 * or {@code installation_id}, while absent fields keep their value. The body carries a removed text
 * field as {@code ""} and a removed installation as {@link #CLEARED}, which the generated model can
 * hold.
 */
public final class UpdateRepositoryBody extends JsonBodyRewrite {
    /** Stands for {@code "installation_id": null} in the generated model. */
    public static final long CLEARED = Long.MIN_VALUE;

    public UpdateRepositoryBody(ObjectMapper mapper) {
        super(mapper, "PATCH", "v1/projects/[^/]+/repositories/[^/]+");
    }

    @Override
    protected boolean rewrite(ObjectNode body) {
        boolean changed = false;
        for (String field : new String[] {"default_branch", "root_directory"}) {
            if (body.has(field) && body.get(field).isNull()) {
                body.put(field, "");
                changed = true;
            }
        }
        if (body.has("installation_id") && body.get("installation_id").isNull()) {
            body.put("installation_id", CLEARED);
            changed = true;
        }
        return changed;
    }
}
