package dev.mobius.server.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ContainerRequestFilter;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.regex.Pattern;

/**
 * The generated request models cannot tell a field sent as {@code null} from an absent one. Where
 * an operation gives {@code null} a meaning of its own, a subclass rewrites the JSON body of that
 * one route into an equivalent the model can carry, before Jersey reads it.
 */
public abstract class JsonBodyRewrite implements ContainerRequestFilter {
    private final ObjectMapper mapper;
    private final String method;
    private final Pattern path;

    /** @param path the request path without its leading slash, e.g. {@code v1/projects/[^/]+/actions/[^/]+} */
    protected JsonBodyRewrite(ObjectMapper mapper, String method, String path) {
        this.mapper = mapper;
        this.method = method;
        this.path = Pattern.compile("/?" + path);
    }

    /** Rewrites {@code body} in place; @return whether anything changed */
    protected abstract boolean rewrite(ObjectNode body);

    @Override
    public void filter(ContainerRequestContext request) throws IOException {
        if (!request.getMethod().equals(method)
                || !path.matcher(request.getUriInfo().getPath()).matches()
                || !request.hasEntity()) {
            return;
        }
        byte[] body = request.getEntityStream().readAllBytes();
        try {
            JsonNode node = mapper.readTree(body);
            if (node instanceof ObjectNode object && rewrite(object)) {
                body = mapper.writeValueAsBytes(object);
            }
        } catch (IOException e) {
            // Not JSON: Jersey reports it when it reads the body.
        }
        request.setEntityStream(new ByteArrayInputStream(body));
    }
}
