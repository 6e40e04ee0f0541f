package dev.mobius.server.docs;

import dev.mobius.api.DocsApi;
import dev.mobius.server.http.ApiException;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.Response;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;

/**
 * {@code GET /docs}: the contract served at {@code /openapi.yaml}, rendered for people by Swagger
 * UI, whose files ship inside the server and are served under {@code /docs/{asset}}. The page loads
 * nothing from any other origin, so it works offline; its {@code Content-Security-Policy} makes the
 * browser refuse anything else. Needs neither a credential nor the database.
 */
// Jersey reads the class-level @Path from the class itself, not from the generated interface.
@jakarta.ws.rs.Path("/docs")
public final class DocsResource implements DocsApi {
    private static final String PAGE = "docs/index.html";
    private static final String HTML = "text/html;charset=utf-8";
    /** Files asked for with the version the page was built for never change under that URL. */
    private static final String CACHE_VERSIONED = "public, max-age=31536000, immutable";

    private static final String CACHE_UNVERSIONED = "public, max-age=3600";

    private final SwaggerUi swaggerUi;
    private final byte[] page;
    private final String contentSecurityPolicy;

    public DocsResource() {
        this.swaggerUi = SwaggerUi.load();
        String html = readPage().replace("{{version}}", swaggerUi.version());
        this.page = html.getBytes(StandardCharsets.UTF_8);
        this.contentSecurityPolicy = "default-src 'none'; script-src 'self' '" + inlineScriptHash(html) + "'; "
                + "style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; "
                + "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
    }

    @Override
    public Response getDocsPage() {
        return Response.ok(page, HTML)
                .header(HttpHeaders.CACHE_CONTROL, "no-cache")
                .header("Content-Security-Policy", contentSecurityPolicy)
                .header("X-Content-Type-Options", "nosniff")
                .header("Referrer-Policy", "no-referrer")
                .build();
    }

    @Override
    public Response getDocsAsset(String asset, String v) {
        SwaggerUi.File file = swaggerUi.file(asset);
        if (file == null) {
            throw ApiException.notFound("file \"" + asset + "\" not found");
        }
        return Response.ok(file.bytes(), file.contentType())
                .header(HttpHeaders.CACHE_CONTROL, swaggerUi.version().equals(v) ? CACHE_VERSIONED : CACHE_UNVERSIONED)
                .header("X-Content-Type-Options", "nosniff")
                .build();
    }

    private static String readPage() {
        try (InputStream in = DocsResource.class.getClassLoader().getResourceAsStream(PAGE)) {
            if (in == null) {
                throw new IllegalStateException(PAGE + " is not on the class path");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + PAGE, e);
        }
    }

    /** The CSP source for the page's one inline script, which starts the renderer. */
    private static String inlineScriptHash(String html) {
        String open = "<script>";
        int start = html.lastIndexOf(open);
        int end = html.indexOf("</script>", start);
        if (start < 0 || end < 0) {
            throw new IllegalStateException(PAGE + " has no inline script");
        }
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256")
                    .digest(html.substring(start + open.length(), end).getBytes(StandardCharsets.UTF_8));
            return "sha256-" + Base64.getEncoder().encodeToString(digest);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this Java runtime", e);
        }
    }
}
