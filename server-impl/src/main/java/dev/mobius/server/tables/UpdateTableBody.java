package dev.mobius.server.tables;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mobius.server.http.JsonBodyRewrite;

/**
 * In a PUT of a table, {@code "scope": null} or {@code "owned_by": null} moves the table back to
 * project scope, while absent fields keep it where it is. The body carries that as
 * {@code "owned_by": ""} (no owner), which the generated model can hold.
 */
public final class UpdateTableBody extends JsonBodyRewrite {
    public UpdateTableBody(ObjectMapper mapper) {
        super(mapper, "PUT", "v1/projects/[^/]+/tables/[^/]+");
    }

    @Override
    protected boolean rewrite(ObjectNode body) {
        boolean scopeCleared = body.has("scope") && body.get("scope").isNull();
        boolean ownerCleared = body.has("owned_by") && body.get("owned_by").isNull();
        if (!scopeCleared && !ownerCleared) {
            return false;
        }
        body.remove("scope");
        body.put("owned_by", "");
        return true;
    }
}
