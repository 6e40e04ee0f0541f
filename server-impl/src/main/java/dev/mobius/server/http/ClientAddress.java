package dev.mobius.server.http;

import jakarta.ws.rs.container.ContainerRequestContext;
import java.util.Map;
import org.glassfish.grizzly.http.server.HttpHandler;
import org.glassfish.grizzly.http.server.HttpHandlerRegistration;
import org.glassfish.grizzly.http.server.HttpServer;
import org.glassfish.grizzly.http.server.Request;
import org.glassfish.grizzly.http.server.Response;
import org.glassfish.grizzly.http.server.ServerConfiguration;

/**
 * The client's address as a request property. Jersey reaches the underlying Grizzly request only
 * through an injected proxy whose lookup cost a noticeable share of a short read; the Grizzly
 * handler that hands requests to Jersey copies the address into a request attribute instead,
 * which Jersey exposes as a property.
 */
public final class ClientAddress {
    private static final String PROPERTY = ClientAddress.class.getName();

    private ClientAddress() {}

    /** The address the request came from, or null if it is unknown. */
    public static String of(ContainerRequestContext request) {
        return (String) request.getProperty(PROPERTY);
    }

    /** Puts the copying handler in front of every handler {@code http} has (Jersey's, before start). */
    public static void install(HttpServer http) {
        ServerConfiguration server = http.getServerConfiguration();
        for (Map.Entry<HttpHandler, HttpHandlerRegistration[]> registered :
                Map.copyOf(server.getHttpHandlersWithMapping()).entrySet()) {
            server.removeHttpHandler(registered.getKey());
            server.addHttpHandler(new Copying(registered.getKey()), registered.getValue());
        }
    }

    private static final class Copying extends HttpHandler {
        private final HttpHandler next;

        Copying(HttpHandler next) {
            super(next.getName());
            this.next = next;
            setAllowEncodedSlash(next.isAllowEncodedSlash());
            setAllowCustomStatusMessage(next.isAllowCustomStatusMessage());
            setRequestURIEncoding(next.getRequestURIEncoding());
        }

        @Override
        public void service(Request request, Response response) throws Exception {
            request.setAttribute(PROPERTY, request.getRemoteAddr());
            next.service(request, response);
        }

        @Override
        public void start() {
            next.start();
        }

        @Override
        public void destroy() {
            next.destroy();
        }
    }
}
