package dev.mobius.server.mogplex.mcp;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.NullNode;
import dev.mobius.mogplex.api.MogplexMcpApi;
import dev.mobius.server.mogplex.Loopback;
import dev.mobius.server.mogplex.MogplexException;
import dev.mobius.server.mogplex.MogplexGate;
import jakarta.inject.Provider;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.concurrent.CompletionException;
import org.glassfish.grizzly.http.server.Request;

/**
 * {@code /api/v1/mogplex/mcp}: the MCP endpoint, stateless Streamable HTTP with plain JSON answers.
 * A request goes through the origin check ({@code -32003}), the JSON parse ({@code -32700}), the
 * token ({@code -32001}, {@code -32002}) and then the {@link McpDispatcher}, in that order. Tools
 * call the REST operations of this node through {@link ToolCalls}.
 */
public final class McpResource implements MogplexMcpApi {
    static final String PROTOCOL_HEADER = "mcp-protocol-version";
    private static final String ALLOWED_METHODS = "POST, OPTIONS";
    private static final String ALLOWED_HEADERS = "authorization, content-type, mcp-protocol-version, mcp-session-id";

    private static final String UNAUTHORIZED_SUGGESTION =
            "Send Authorization with a valid Mogplex personal access token (Bearer mog_...).";
    private static final String RATE_LIMITED_SUGGESTION = "Wait for the Retry-After interval, then retry.";

    private final MogplexGate.Tokens tokens;
    private final int requestsPerMinute;
    private final McpOrigins origins;
    private final ObjectMapper mapper;
    private final McpDispatcher dispatcher = new McpDispatcher(new McpTools());
    private final ToolCalls toolCalls;

    @Context
    private Provider<ContainerRequestContext> request;

    @Context
    private Provider<Request> connection;

    public McpResource(
            MogplexGate.Tokens tokens,
            int requestsPerMinute,
            Loopback loopback,
            McpOrigins origins,
            ObjectMapper mapper) {
        this.tokens = tokens;
        this.requestsPerMinute = requestsPerMinute;
        this.origins = origins;
        this.mapper = mapper;
        HttpClient http = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(10))
                .followRedirects(HttpClient.Redirect.NEVER)
                .build();
        this.toolCalls = new ToolCalls(http, loopback, mapper);
    }

    @Override
    public Response postMcpMessage(String text, String origin) {
        ContainerRequestContext req = request.get();
        // 1. Origin, before anything else is looked at.
        if (!origins.allows(origin, MogplexGate.origin(req))) {
            return json(
                            403,
                            McpDispatcher.error(
                                    null, McpDispatcher.FORBIDDEN_ORIGIN, "Forbidden origin", "FORBIDDEN_ORIGIN", null),
                            null)
                    .header(HttpHeaders.VARY, "Origin")
                    .build();
        }
        // 2. JSON, before the credential: a body that does not parse is -32700 whoever sends it.
        JsonNode body = parse(text);
        if (body == null) {
            return json(
                            400,
                            McpDispatcher.error(NullNode.getInstance(), McpDispatcher.PARSE_ERROR, "Parse error"),
                            origin)
                    .build();
        }
        // 3. The token, once per HTTP request.
        try {
            tokens.authenticate(req, requestsPerMinute);
        } catch (MogplexException e) {
            boolean limited = e.status() == 429;
            Response.ResponseBuilder out = json(
                    e.status(),
                    McpDispatcher.error(
                            body.isObject() ? McpDispatcher.echoedId(body) : NullNode.getInstance(),
                            limited ? McpDispatcher.RATE_LIMITED : McpDispatcher.UNAUTHORIZED,
                            limited ? "Rate limit exceeded" : "Unauthorized",
                            limited ? "RATE_LIMITED" : "UNAUTHORIZED",
                            limited ? RATE_LIMITED_SUGGESTION : UNAUTHORIZED_SUGGESTION),
                    origin);
            e.headers().forEach(out::header);
            return out.build();
        }
        // 4. Dispatch; tools call back into this node with the same Authorization.
        String authorization = req.getHeaderString(HttpHeaders.AUTHORIZATION);
        URI self = selfAddress();
        JsonNode answer;
        try {
            answer = dispatcher
                    .dispatch(body, (tool, args) -> toolCalls.call(tool, args, self, authorization))
                    .join();
        } catch (CompletionException e) {
            throw new IllegalStateException("MCP dispatch failed", e.getCause());
        }
        if (answer == null) {
            return headers(Response.status(202), origin).build();
        }
        return json(200, answer, origin).build();
    }

    /** The body as JSON, or null when it is empty or not JSON (trailing content included). */
    private JsonNode parse(String text) {
        if (text == null || text.isBlank()) {
            return null;
        }
        try {
            return mapper.reader()
                    .with(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                    .readTree(text);
        } catch (JsonProcessingException e) {
            return null;
        }
    }

    @Override
    public Response preflightMcp(String origin) {
        if (!origins.allows(origin, MogplexGate.origin(request.get()))) {
            return Response.status(403)
                    .header(HttpHeaders.CACHE_CONTROL, "no-store")
                    .header(HttpHeaders.VARY, "Origin")
                    .build();
        }
        Response.ResponseBuilder out = Response.noContent()
                .header("Allow", ALLOWED_METHODS)
                .header("Access-Control-Allow-Methods", ALLOWED_METHODS)
                .header("Access-Control-Allow-Headers", ALLOWED_HEADERS)
                .header("Access-Control-Max-Age", "86400")
                .header(HttpHeaders.CACHE_CONTROL, "no-store")
                .header(HttpHeaders.VARY, "Origin");
        if (origin != null) {
            out.header("Access-Control-Allow-Origin", origin);
        }
        return out.build();
    }

    @Override
    public Response getMcpStream() {
        return Response.status(405)
                .header("Allow", ALLOWED_METHODS)
                .header(HttpHeaders.CACHE_CONTROL, "no-store")
                .build();
    }

    /**
     * Where this node answers, as the tools call it: the address and port the MCP request came in
     * on, with a wildcard or unknown address replaced by loopback.
     */
    private URI selfAddress() {
        Request grizzly = connection.get();
        String host = grizzly.getLocalAddr();
        try {
            InetAddress address = host == null ? null : InetAddress.getByName(host);
            if (address == null || address.isAnyLocalAddress()) {
                address = InetAddress.getLoopbackAddress();
            }
            String literal = address.getHostAddress();
            if (literal.contains(":")) {
                int scope = literal.indexOf('%');
                literal = "[" + (scope >= 0 ? literal.substring(0, scope) : literal) + "]";
            }
            return URI.create("http://" + literal + ":" + grizzly.getLocalPort());
        } catch (UnknownHostException e) {
            return URI.create("http://127.0.0.1:" + grizzly.getLocalPort());
        }
    }

    private Response.ResponseBuilder json(int status, JsonNode body, String origin) {
        try {
            return headers(
                    Response.status(status)
                            .type(MediaType.APPLICATION_JSON_TYPE)
                            .entity(mapper.writeValueAsBytes(body)),
                    origin);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write an MCP response", e);
        }
    }

    /** The headers every POST answer carries; an origin passed here is an allowed one. */
    private static Response.ResponseBuilder headers(Response.ResponseBuilder out, String origin) {
        out.header(HttpHeaders.CACHE_CONTROL, "no-store").header(PROTOCOL_HEADER, McpDispatcher.PROTOCOL_VERSION);
        if (origin != null) {
            out.header(HttpHeaders.VARY, "Origin").header("Access-Control-Allow-Origin", origin);
        }
        return out;
    }
}
