package dev.mobius.server.artifacts;

import dev.mobius.server.http.ApiException;
import jakarta.annotation.Priority;
import jakarta.ws.rs.Priorities;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ContainerRequestFilter;
import jakarta.ws.rs.container.PreMatching;
import jakarta.ws.rs.core.Response;

/**
 * {@code GET /v1/artifact-downloads/<token>}: the signed URLs of createArtifactSignedUrl. The token
 * is the only credential, so the route is answered here, before matching (and so before the API's
 * authentication), after the request log and the database gate; it answers like
 * getArtifactContent, errors in the same envelope.
 */
@PreMatching
@Priority(Priorities.AUTHENTICATION - 80)
public final class SignedDownloads implements ContainerRequestFilter {
    private static final String PREFIX = SignedUrls.PATH.substring(1) + "/";
    private final ArtifactService artifacts;

    public SignedDownloads(ArtifactService artifacts) {
        this.artifacts = artifacts;
    }

    @Override
    public void filter(ContainerRequestContext request) {
        String path = request.getUriInfo().getPath(false);
        if (path.startsWith("/")) {
            path = path.substring(1);
        }
        if (!path.startsWith(PREFIX)) {
            return;
        }
        String token = path.substring(PREFIX.length());
        String method = request.getMethod();
        if (!"GET".equals(method) && !"HEAD".equals(method)) {
            request.abortWith(Response.status(405)
                    .header("Allow", "GET, HEAD")
                    .type("application/json")
                    .entity(ArtifactsResource.envelope(
                            new ApiException(405, "method_not_allowed", "method not allowed", null)))
                    .build());
            return;
        }
        ArtifactService.Content content;
        try {
            content = artifacts.signedContent(token, request.getHeaderString("Range"));
        } catch (ContentPlan.Unsatisfiable e) {
            request.abortWith(ArtifactsResource.unsatisfiable(e));
            return;
        }
        Response r = ArtifactsResource.stream(artifacts, content);
        request.abortWith(Response.fromResponse(r)
                .header("Cache-Control", "private, no-store")
                .build());
    }
}
