package dev.mobius.server.http;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import jakarta.annotation.Priority;
import jakarta.ws.rs.Priorities;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ContainerResponseContext;
import jakarta.ws.rs.container.ContainerResponseFilter;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * Tells every client which version of the contract answers it: {@code Mobius-Api-Version} on every
 * response, success or error, carries {@code info.version} of the document served at
 * {@code GET /openapi.yaml}. The version is read once, when the server starts.
 */
@Priority(Priorities.HEADER_DECORATOR)
public final class ApiVersionHeader implements ContainerResponseFilter {
    public static final String HEADER = "Mobius-Api-Version";

    private final String version;

    public ApiVersionHeader(OperationCatalog catalog) {
        this.version = versionOf(catalog.document());
    }

    public String version() {
        return version;
    }

    @Override
    public void filter(ContainerRequestContext request, ContainerResponseContext response) {
        response.getHeaders().putSingle(HEADER, version);
    }

    /**
     * {@code info.version} of a contract, read as a stream: {@code info} comes first in the
     * document, so the rest of it is never parsed.
     */
    static String versionOf(String document) {
        try (JsonParser parser = new YAMLFactory().createParser(document)) {
            if (parser.nextToken() != JsonToken.START_OBJECT) {
                throw new IllegalStateException("the contract is not a YAML mapping");
            }
            while (parser.nextToken() == JsonToken.FIELD_NAME) {
                String name = parser.currentName();
                parser.nextToken();
                if (!name.equals("info") || !parser.isExpectedStartObjectToken()) {
                    parser.skipChildren();
                    continue;
                }
                while (parser.nextToken() == JsonToken.FIELD_NAME) {
                    String field = parser.currentName();
                    parser.nextToken();
                    if (field.equals("version") && parser.currentToken().isScalarValue()) {
                        return parser.getText();
                    }
                    parser.skipChildren();
                }
                break;
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the contract", e);
        }
        throw new IllegalStateException("the contract has no info.version");
    }
}
