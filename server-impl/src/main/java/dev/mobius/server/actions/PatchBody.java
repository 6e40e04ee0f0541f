package dev.mobius.server.actions;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ContainerRequestFilter;
import java.io.ByteArrayInputStream;
import java.io.IOException;

/**
 * The generated request model cannot tell {@code "annotations": null} (clear the flags) from an
 * absent field (keep them). Clearing equals replacing with {@code {}} (every flag false), so this
 * filter rewrites a PATCH of an action that sends null into that form before Jersey reads it.
 */
public final class PatchBody implements ContainerRequestFilter {
    private final ObjectMapper mapper;

    public PatchBody(ObjectMapper mapper) {
        this.mapper = mapper;
    }

    @Override
    public void filter(ContainerRequestContext request) throws IOException {
        if (!request.getMethod().equals("PATCH")
                || !request.getUriInfo().getPath().matches("/?v1/projects/[^/]+/actions/[^/]+")
                || !request.hasEntity()) {
            return;
        }
        byte[] body = request.getEntityStream().readAllBytes();
        try {
            JsonNode node = mapper.readTree(body);
            if (node != null
                    && node.isObject()
                    && node.has("annotations")
                    && node.get("annotations").isNull()) {
                ((com.fasterxml.jackson.databind.node.ObjectNode) node).putObject("annotations");
                body = mapper.writeValueAsBytes(node);
            }
        } catch (IOException e) {
            // Not JSON: Jersey reports it when it reads the body.
        }
        request.setEntityStream(new ByteArrayInputStream(body));
    }
}
