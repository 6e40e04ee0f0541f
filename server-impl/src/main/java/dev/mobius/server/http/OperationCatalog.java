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
    /** The second dialect's contract (the Mogplex API), bundled beside the first. */
    public static final String MOGPLEX_SPEC_RESOURCE = "openapi/openapi-mogplex.yaml";
    /** Interfaces generated from the Mogplex contract live in this package. */
    private static final String MOGPLEX_API_PACKAGE = "dev.mobius.mogplex.api";

    private static final String REQUEST_PROPERTY = OperationInfo.class.getName();

    /**
     * @param authenticated whether the {@code /v1} filters authenticate it (false for every Mogplex
     *     operation: the Mogplex gate does, in that dialect's order)
     * @param mogplex whether the operation belongs to the Mogplex dialect
     * @param scope the token scope a Mogplex operation needs ({@code read}, {@code write}) or
     *     {@code none}; null on {@code /v1} operations
     * @param idempotencyKeyRequired whether a Mogplex operation requires {@code Idempotency-Key}
     * @param selfAuthenticated whether a Mogplex operation authenticates the token itself (the MCP
     *     endpoint, whose failures have their own shape and order)
     */
    public record OperationInfo(
            String operationId,
            String method,
            String path,
            boolean authenticated,
            boolean idempotent,
            String permission,
            Set<String> queryParameters,
            boolean mogplex,
            String scope,
            boolean idempotencyKeyRequired,
            boolean selfAuthenticated) {}

    private final Map<String, OperationInfo> byOperationId;
    private final Map<String, OperationInfo> mogplexByOperationId;
    private final String document;
    private final String mogplexDocument;

    private OperationCatalog(
            Map<String, OperationInfo> byOperationId,
            String document,
            Map<String, OperationInfo> mogplexByOperationId,
            String mogplexDocument) {
        this.byOperationId = byOperationId;
        this.document = document;
        this.mogplexByOperationId = mogplexByOperationId;
        this.mogplexDocument = mogplexDocument;
    }

    public static OperationCatalog load() {
        String yaml = read(SPEC_RESOURCE);
        String mogplexYaml = read(MOGPLEX_SPEC_RESOURCE);
        return new OperationCatalog(operations(yaml, false), yaml, operations(mogplexYaml, true), mogplexYaml);
    }

    private static String read(String resource) {
        try (InputStream in = OperationCatalog.class.getClassLoader().getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException(resource + " is not on the classpath");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + resource, e);
        }
    }

    private static Map<String, OperationInfo> operations(String yaml, boolean mogplex) {
        ParseOptions options = new ParseOptions();
        options.setResolve(true);
        SwaggerParseResult result = new OpenAPIV3Parser().readContents(yaml, null, options);
        OpenAPI api = result.getOpenAPI();
        if (api == null) {
            throw new IllegalStateException("cannot parse the contract: " + result.getMessages());
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
                    Object scope = extension(op, "x-mogplex-scope");
                    ops.put(
                            op.getOperationId(),
                            new OperationInfo(
                                    op.getOperationId(),
                                    method.name(),
                                    path,
                                    authenticated && !mogplex,
                                    !mogplex && Boolean.TRUE.equals(extension(op, "x-idempotent")),
                                    mogplex ? null : (String) extension(op, "x-mobius-permission"),
                                    Set.copyOf(query),
                                    mogplex,
                                    mogplex ? (authenticated && scope != null ? scope.toString() : "none") : null,
                                    mogplex && "required".equals(extension(op, "x-mogplex-idempotency")),
                                    mogplex && ("self".equals(extension(op, "x-mogplex-auth")) || !authenticated)));
                }));
        return Map.copyOf(ops);
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
        java.lang.reflect.Method handling = method.getInvocable().getHandlingMethod();
        String name = handling.getName();
        OperationInfo op = isMogplex(handling.getDeclaringClass()) ? mogplexByOperationId.get(name) : find(name);
        request.setProperty(REQUEST_PROPERTY, Optional.ofNullable(op));
        return op;
    }

    /** Whether a resource class implements an interface generated from the Mogplex contract. */
    private static boolean isMogplex(Class<?> resource) {
        for (Class<?> c = resource; c != null; c = c.getSuperclass()) {
            for (Class<?> implemented : c.getInterfaces()) {
                if (implemented.getPackageName().equals(MOGPLEX_API_PACKAGE)) {
                    return true;
                }
            }
        }
        return false;
    }

    /** The {@code /v1} operations. */
    public List<OperationInfo> all() {
        return List.copyOf(byOperationId.values());
    }

    /** The Mogplex dialect's operations. */
    public List<OperationInfo> mogplex() {
        return List.copyOf(mogplexByOperationId.values());
    }

    /** The Mogplex contract, bundled, served at {@code GET /openapi-mogplex.yaml}. */
    public String mogplexDocument() {
        return mogplexDocument;
    }

    /**
     * The contract as the openapi module bundles it from its per-feature files: one self-contained
     * document, served at {@code GET /openapi.yaml} for clients to generate code from.
     */
    public String document() {
        return document;
    }
}
