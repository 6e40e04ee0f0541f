package dev.mobius.server.http;

import io.swagger.v3.oas.models.OpenAPI;
import io.swagger.v3.oas.models.Operation;
import io.swagger.v3.oas.models.parameters.Parameter;
import io.swagger.v3.parser.OpenAPIV3Parser;
import io.swagger.v3.parser.core.models.ParseOptions;
import io.swagger.v3.parser.core.models.SwaggerParseResult;
import jakarta.ws.rs.container.ContainerRequestContext;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.glassfish.jersey.server.ExtendedUriInfo;
import org.glassfish.jersey.server.model.ResourceMethod;

/**
 * What the contract declares about each operation, read from the bundled
 * {@code openapi-public.yaml}: whether it needs a credential, whether it honours
 * {@code Idempotency-Key}, and the permission it requires. The server reads these declarations
 * instead of repeating them in code. Operations are looked up by operationId, which is also the
 * name of the generated Java method.
 */
public final class OperationCatalog {
    public static final String SPEC_RESOURCE = "openapi/openapi-public.yaml";
    private static final String REQUEST_PROPERTY = OperationInfo.class.getName();

    public record OperationInfo(
            String operationId,
            String method,
            String path,
            boolean authenticated,
            boolean idempotent,
            String permission,
            Set<String> queryParameters) {}

    private final Map<String, OperationInfo> byOperationId;
    private final String document;

    private OperationCatalog(Map<String, OperationInfo> byOperationId, String document) {
        this.byOperationId = byOperationId;
        this.document = document;
    }

    public static OperationCatalog load() {
        String yaml;
        try (InputStream in = OperationCatalog.class.getClassLoader().getResourceAsStream(SPEC_RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException(SPEC_RESOURCE + " is not on the classpath");
            }
            yaml = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + SPEC_RESOURCE, e);
        }
        ParseOptions options = new ParseOptions();
        options.setResolve(true);
        SwaggerParseResult result = new OpenAPIV3Parser().readContents(yaml, null, options);
        OpenAPI api = result.getOpenAPI();
        if (api == null) {
            throw new IllegalStateException("cannot parse " + SPEC_RESOURCE + ": " + result.getMessages());
        }
        boolean globalAuth = api.getSecurity() != null && !api.getSecurity().isEmpty();
        Map<String, OperationInfo> ops = new HashMap<>();
        api.getPaths()
                .forEach((path, item) -> item.readOperationsMap().forEach((method, op) -> {
                    boolean authenticated = op.getSecurity() == null
                            ? globalAuth
                            : !op.getSecurity().isEmpty();
                    Set<String> query = new HashSet<>();
                    for (List<Parameter> declared : Arrays.asList(item.getParameters(), op.getParameters())) {
                        if (declared != null) {
                            declared.stream()
                                    .filter(p -> "query".equals(p.getIn()))
                                    .forEach(p -> query.add(p.getName()));
                        }
                    }
                    ops.put(
                            op.getOperationId(),
                            new OperationInfo(
                                    op.getOperationId(),
                                    method.name(),
                                    path,
                                    authenticated,
                                    Boolean.TRUE.equals(extension(op, "x-idempotent")),
                                    (String) extension(op, "x-mobius-permission"),
                                    Set.copyOf(query)));
                }));
        return new OperationCatalog(Map.copyOf(ops), yaml);
    }

    private static Object extension(Operation op, String name) {
        return op.getExtensions() == null ? null : op.getExtensions().get(name);
    }

    /** @return the operation, or null for a method that is not an operation of the contract */
    public OperationInfo find(String operationId) {
        return byOperationId.get(operationId);
    }

    /**
     * The operation a matched request is for, or null for a method outside the contract (or a
     * request not matched yet). Found once per request and kept as a request property, so the
     * filters that each need it neither repeat the lookup nor go through an injected proxy.
     */
    public OperationInfo of(ContainerRequestContext request) {
        if (request.getProperty(REQUEST_PROPERTY) instanceof Optional<?> known) {
            return (OperationInfo) known.orElse(null);
        }
        ResourceMethod method = ((ExtendedUriInfo) request.getUriInfo()).getMatchedResourceMethod();
        if (method == null) {
            return null;
        }
        OperationInfo op = find(method.getInvocable().getHandlingMethod().getName());
        request.setProperty(REQUEST_PROPERTY, Optional.ofNullable(op));
        return op;
    }

    public List<OperationInfo> all() {
        return List.copyOf(byOperationId.values());
    }

    /**
     * The contract as the openapi module bundles it from its per-feature files: one self-contained
     * document, served at {@code GET /openapi.yaml} for clients to generate code from.
     */
    public String document() {
        return document;
    }
}
