package dev.mobius.server.artifacts;

import dev.mobius.api.ArtifactsApi;
import dev.mobius.api.model.ArtifactState;
import dev.mobius.server.http.ApiException;
import dev.mobius.server.tenancy.Caller;
import dev.mobius.server.tenancy.CallerContext;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.SecurityContext;
import jakarta.ws.rs.core.StreamingOutput;
import jakarta.ws.rs.core.UriInfo;
import java.io.InputStream;
import java.time.OffsetDateTime;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * HTTP face of {@link ArtifactService}. Uploads ({@code createArtifact}) never reach this class:
 * {@link ArtifactUploads} answers them from the raw request stream before Jersey would read the
 * form into parameters.
 */
// Jersey reads the class-level @Path from the class itself, not from the generated interface.
@jakarta.ws.rs.Path("")
public final class ArtifactsResource implements ArtifactsApi {
    private final ArtifactService artifacts;

    @Context
    private SecurityContext security;

    @Context
    private UriInfo uri;

    public ArtifactsResource(ArtifactService artifacts) {
        this.artifacts = artifacts;
    }

    private Caller caller() {
        return CallerContext.of(security);
    }

    @Override
    public Response createArtifact(
            String project,
            String leaseToken,
            InputStream file,
            String name,
            String mime,
            Long sizeBytes,
            Map<String, String> tags,
            Long retainForSeconds,
            OffsetDateTime retainUntil) {
        // ArtifactUploads answers every upload before matching reaches a resource method.
        throw new IllegalStateException("uploads are answered by ArtifactUploads");
    }

    @Override
    public Response listArtifacts(
            String project,
            String runId,
            String stepId,
            String mime,
            ArtifactState state,
            String cursor,
            Integer limit) {
        return Response.ok(artifacts.list(caller(), project, runId, stepId, mime, state, cursor, limit))
                .build();
    }

    @Override
    public Response getArtifact(String project, String id) {
        return Response.ok(artifacts.get(caller(), project, id)).build();
    }

    @Override
    public Response deleteArtifact(String project, String id) {
        artifacts.delete(caller(), project, id);
        return Response.noContent().build();
    }

    @Override
    public Response getArtifactContent(String project, String id, String range) {
        ArtifactService.Content content;
        try {
            content = artifacts.content(caller(), project, id, range);
        } catch (ContentPlan.Unsatisfiable e) {
            return unsatisfiable(e);
        }
        return stream(artifacts, content);
    }

    @Override
    public Response createArtifactSignedUrl(String project, String id, Long ttlSeconds) {
        return Response.ok(artifacts.signedUrl(
                        caller(), project, id, ttlSeconds, uri.getBaseUri().toString()))
                .build();
    }

    @Override
    public Response getArtifactStorageQuota(String project) {
        return Response.ok(artifacts.quota(caller(), project)).build();
    }

    static Response stream(ArtifactService artifacts, ArtifactService.Content content) {
        StreamingOutput body = out -> artifacts.write(content, out);
        Response.ResponseBuilder r = Response.status(content.plan().status()).entity(body);
        content.plan().headers().forEach(r::header);
        return r.build();
    }

    /** 416 in the error envelope, with the size in {@code Content-Range}. */
    static Response unsatisfiable(ContentPlan.Unsatisfiable e) {
        Map<String, Object> error = new LinkedHashMap<>();
        error.put("code", "range_not_satisfiable");
        error.put("message", e.getMessage());
        error.put("details", Map.of("size_bytes", e.size()));
        return Response.status(416)
                .type("application/json")
                .header("Content-Range", "bytes */" + e.size())
                .entity(Map.of("error", error))
                .build();
    }

    /** An {@link ApiException} as a response, for the places that answer outside the mappers. */
    static Map<String, Object> envelope(ApiException e) {
        Map<String, Object> error = new LinkedHashMap<>();
        error.put("code", e.code());
        error.put("message", e.getMessage());
        if (e.details() != null) {
            error.put("details", e.details());
        }
        return Map.of("error", error);
    }
}
