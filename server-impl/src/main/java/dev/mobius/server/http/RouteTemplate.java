package dev.mobius.server.http;

import jakarta.ws.rs.container.ContainerRequestContext;
import java.util.List;
import org.glassfish.jersey.server.ExtendedUriInfo;
import org.glassfish.jersey.uri.UriTemplate;

/**
 * The route a request matched, as its URI template ({@code /v1/projects/{project}/runs/{id}}, never
 * the path with its ids): what metrics label and request spans are named by. Read once matching
 * is done (in a response filter).
 */
public final class RouteTemplate {
    public static final String UNMATCHED = "UNMATCHED";

    private RouteTemplate() {}

    /** The matched templates joined from the outermost in, or {@value #UNMATCHED}. */
    public static String of(ContainerRequestContext request) {
        if (!(request.getUriInfo() instanceof ExtendedUriInfo info)) {
            return UNMATCHED;
        }
        List<UriTemplate> templates = info.getMatchedTemplates();
        if (templates == null || templates.isEmpty()) {
            return UNMATCHED;
        }
        StringBuilder route = new StringBuilder();
        for (int i = templates.size() - 1; i >= 0; i--) {
            String t = templates.get(i).getTemplate();
            if (t.isEmpty() || t.equals("/")) {
                continue;
            }
            if (route.length() == 0 || route.charAt(route.length() - 1) != '/') {
                if (!t.startsWith("/")) {
                    route.append('/');
                }
            } else if (t.startsWith("/")) {
                t = t.substring(1);
            }
            route.append(t);
        }
        return route.length() == 0 ? "/" : route.toString();
    }
}
