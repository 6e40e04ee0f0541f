package dev.mobius.server.environments;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mobius.server.http.JsonBodyRewrite;

/**
 * In a PATCH of an environment, {@code "scope": null} or {@code "owned_by": null} clears the owner
 * scope and the owner, and {@code "bound_to_id": null} the binding, while absent fields keep their
 * value. The body carries a cleared field as {@code ""}, which the generated model can hold.
 */
public final class UpdateEnvironmentBody extends JsonBodyRewrite {
    public UpdateEnvironmentBody(ObjectMapper mapper) {
        super(mapper, "PATCH", "v1/projects/[^/]+/environments/[^/]+");
    }

    @Override
    protected boolean rewrite(ObjectNode body) {
        boolean changed = false;
        if ((body.has("scope") && body.get("scope").isNull())
                || (body.has("owned_by") && body.get("owned_by").isNull())) {
            body.remove("scope");
            body.put("owned_by", "");
            changed = true;
        }
        if (body.has("bound_to_id") && body.get("bound_to_id").isNull()) {
            body.put("bound_to_id", "");
            changed = true;
        }
        return changed;
    }
}
