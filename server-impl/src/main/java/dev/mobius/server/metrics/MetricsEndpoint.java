package dev.mobius.server.metrics;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.function.Supplier;
import org.glassfish.grizzly.http.Method;
import org.glassfish.grizzly.http.server.HttpHandler;
import org.glassfish.grizzly.http.server.HttpServer;
import org.glassfish.grizzly.http.server.NetworkListener;
import org.glassfish.grizzly.http.server.Request;
import org.glassfish.grizzly.http.server.Response;

/** The scrape listener: {@code GET /metrics} and nothing else, on its own port. */
final class MetricsEndpoint implements AutoCloseable {
    static final String CONTENT_TYPE = "text/plain;version=0.0.4;charset=utf-8";

    private final HttpServer server;

    private MetricsEndpoint(HttpServer server) {
        this.server = server;
    }

    static MetricsEndpoint start(String bind, int port, Supplier<String> scrape) throws IOException {
        HttpServer server = new HttpServer();
        server.addListener(new NetworkListener("metrics", bind, port));
        server.getServerConfiguration()
                .addHttpHandler(
                        new HttpHandler() {
                            @Override
                            public void service(Request request, Response response) throws IOException {
                                if (!"/metrics".equals(request.getRequestURI())) {
                                    response.sendError(404);
                                    return;
                                }
                                if (request.getMethod() != Method.GET && request.getMethod() != Method.HEAD) {
                                    response.setHeader("Allow", "GET, HEAD");
                                    response.sendError(405);
                                    return;
                                }
                                byte[] body = scrape.get().getBytes(StandardCharsets.UTF_8);
                                response.setCharacterEncoding("utf-8");
                                response.setContentType(CONTENT_TYPE);
                                response.setHeader(org.glassfish.grizzly.http.util.Header.ContentType, CONTENT_TYPE);
                                response.setContentLength(body.length);
                                if (request.getMethod() == Method.GET) {
                                    response.getOutputStream().write(body);
                                }
                            }
                        },
                        "/");
        server.start();
        return new MetricsEndpoint(server);
    }

    int port() {
        return server.getListener("metrics").getPort();
    }

    @Override
    public void close() {
        server.shutdownNow();
    }
}
