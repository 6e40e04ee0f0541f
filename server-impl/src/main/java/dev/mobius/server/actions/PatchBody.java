package dev.mobius.server.actions;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mobius.server.http.JsonBodyRewrite;

/**
 * {@code "annotations": null} in a PATCH of an action clears the flags, while an absent field
 * keeps them. Clearing equals replacing with {@code {}} (every flag false), so the body is
 * rewritten into that form.
 */
public final class PatchBody extends JsonBodyRewrite {
    public PatchBody(ObjectMapper mapper) {
        super(mapper, "PATCH", "v1/projects/[^/]+/actions/[^/]+");
    }

    @Override
    protected boolean rewrite(ObjectNode body) {
        if (body.has("annotations") && body.get("annotations").isNull()) {
            body.putObject("annotations");
            return true;
        }
        return false;
    }
}
