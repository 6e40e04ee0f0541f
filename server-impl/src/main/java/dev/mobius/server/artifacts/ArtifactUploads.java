package dev.mobius.server.artifacts;

import dev.mobius.server.http.OperationCatalog;
import dev.mobius.server.tenancy.CallerContext;
import jakarta.annotation.Priority;
import jakarta.ws.rs.Priorities;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ContainerRequestFilter;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.Response;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;

/**
 * Uploads ({@code createArtifact}) as streams. The generated interface declares the form's parts
 * as parameters, which Jersey would only fill by reading the whole body first, and the shared
 * input checks read every body into memory up to the server's request limit. So the upload is
 * taken aside and answered by filters: {@link Hold}, before the input checks, keeps the request
 * stream and leaves an empty body in its place; {@link Serve}, after authentication, authorization
 * and rate limits, streams it into {@link ArtifactService#upload} and answers with the result.
 */
public final class ArtifactUploads {
    static final String OPERATION = "createArtifact";
    private static final String STREAM = ArtifactUploads.class.getName() + ".stream";
    private static final String LENGTH = ArtifactUploads.class.getName() + ".length";

    private ArtifactUploads() {}

    /** Keeps the raw body of an upload for {@link Serve}; the shared input checks then see none. */
    @Priority(Priorities.AUTHENTICATION - 60)
    public static final class Hold implements ContainerRequestFilter {
        private final OperationCatalog catalog;

        public Hold(OperationCatalog catalog) {
            this.catalog = catalog;
        }

        @Override
        public void filter(ContainerRequestContext request) {
            OperationCatalog.OperationInfo op = catalog.of(request);
            if (op == null || !OPERATION.equals(op.operationId())) {
                return;
            }
            request.setProperty(STREAM, request.getEntityStream());
            request.setProperty(LENGTH, request.getLength());
            request.setEntityStream(new ByteArrayInputStream(new byte[0]));
        }
    }

    /** Answers an upload once the caller is known and allowed. */
    @Priority(Priorities.USER + 100)
    public static final class Serve implements ContainerRequestFilter {
        private final OperationCatalog catalog;
        private final ArtifactService artifacts;

        public Serve(OperationCatalog catalog, ArtifactService artifacts) {
            this.catalog = catalog;
            this.artifacts = artifacts;
        }

        @Override
        public void filter(ContainerRequestContext request) throws IOException {
            OperationCatalog.OperationInfo op = catalog.of(request);
            if (op == null || !OPERATION.equals(op.operationId())) {
                return;
            }
            InputStream body = (InputStream) request.getProperty(STREAM);
            Integer length = (Integer) request.getProperty(LENGTH);
            String declared = request.getHeaderString(HttpHeaders.CONTENT_LENGTH);
            long contentLength = length == null ? -1 : length;
            if (declared != null) {
                try {
                    contentLength = Long.parseLong(declared.trim());
                } catch (NumberFormatException ignored) {
                    // unreadable: the parser finds out how long the body is
                }
            }
            var artifact = artifacts.upload(
                    CallerContext.of(request.getSecurityContext()),
                    request.getUriInfo().getPathParameters().getFirst("project"),
                    request.getHeaderString("X-Mobius-Lease-Token"),
                    new FormParts.Body(
                            request.getHeaderString(HttpHeaders.CONTENT_TYPE),
                            contentLength,
                            body == null ? InputStream.nullInputStream() : body));
            request.abortWith(Response.status(201)
                    .type("application/json")
                    .entity(artifact)
                    .build());
        }
    }
}
