package dev.mobius.server.http;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.glassfish.grizzly.filterchain.FilterChainBuilder;
import org.glassfish.grizzly.filterchain.FilterChainContext;
import org.glassfish.grizzly.http.HttpContent;
import org.glassfish.grizzly.http.HttpHeader;
import org.glassfish.grizzly.http.HttpRequestPacket;
import org.glassfish.grizzly.http.HttpResponsePacket;
import org.glassfish.grizzly.http.HttpServerFilter;
import org.glassfish.grizzly.http.server.AddOn;
import org.glassfish.grizzly.http.server.NetworkListener;
import org.glassfish.grizzly.http.util.HttpStatus;
import org.glassfish.grizzly.memory.Buffers;
import org.glassfish.grizzly.memory.MemoryManager;

/**
 * Requests that never reach Jersey because Grizzly's HTTP codec cannot read them still get the
 * error envelope: a request line longer than the header limit is 414 {@code uri_too_long}, a
 * header section over it is 431 {@code headers_too_large}, anything else unreadable is 400
 * {@code bad_request}. Grizzly answers these itself with an empty 400; this add-on swaps its codec
 * for one that only writes a different status and body, with the listener's own settings.
 */
public final class ProtocolErrors implements AddOn {
    @Override
    public void setup(NetworkListener listener, FilterChainBuilder builder) {
        int index = builder.indexOfType(HttpServerFilter.class);
        HttpServerFilter original = (HttpServerFilter) builder.get(index);
        int maxHeaderSize = listener.getMaxHttpHeaderSize() == -1 ? 8192 : listener.getMaxHttpHeaderSize();
        EnvelopeCodec codec = new EnvelopeCodec(
                listener.isChunkingEnabled(),
                maxHeaderSize,
                listener.getKeepAlive(),
                listener.getMaxRequestHeaders(),
                listener.getMaxResponseHeaders());
        codec.setAllowPayloadForUndefinedHttpMethods(original.isAllowPayloadForUndefinedHttpMethods());
        codec.setMaxPayloadRemainderToSkip(original.getMaxPayloadRemainderToSkip());
        for (var encoding : original.getContentEncodings()) {
            codec.addContentEncoding(encoding);
        }
        builder.set(index, codec);
    }

    static final class EnvelopeCodec extends HttpServerFilter {
        // The only constructor that takes header-count limits is deprecated; Grizzly has no other way to set them.
        @SuppressWarnings("deprecation")
        EnvelopeCodec(
                boolean chunking,
                int maxHeaderSize,
                org.glassfish.grizzly.http.KeepAlive keepAlive,
                int maxRequestHeaders,
                int maxResponseHeaders) {
            super(chunking, maxHeaderSize, null, keepAlive, null, maxRequestHeaders, maxResponseHeaders);
        }

        @Override
        protected void onHttpHeaderError(HttpHeader header, FilterChainContext ctx, Throwable t) throws IOException {
            if (header instanceof HttpRequestPacket request) {
                // The request line is read first: without a URI the failure happened inside it.
                String uri = request.getRequestURI();
                boolean inRequestLine = uri == null || uri.isEmpty();
                if (inRequestLine) {
                    // The protocol comes last on that line: answer as HTTP/1.1, headers included.
                    request.setProtocol(org.glassfish.grizzly.http.Protocol.HTTP_1_1);
                }
                if (!isOverflow(t)) {
                    super.onHttpHeaderError(header, ctx, t);
                    return;
                }
                HttpResponsePacket response = request.getResponse();
                if (inRequestLine) {
                    HttpStatus.REQUEST_URI_TOO_LONG_414.setValues(response);
                } else {
                    response.setStatus(431);
                    response.setReasonPhrase("Request Header Fields Too Large");
                }
            }
            super.onHttpHeaderError(header, ctx, t);
        }

        private static boolean isOverflow(Throwable t) {
            return t != null && String.valueOf(t.getMessage()).contains("too large");
        }

        @Override
        protected HttpContent customizeErrorResponse(HttpResponsePacket response) {
            int status = response.getStatus();
            String code;
            String message;
            switch (status) {
                case 414 -> {
                    code = "uri_too_long";
                    message = "the request line is longer than the server accepts";
                }
                case 431 -> {
                    code = "headers_too_large";
                    message = "the request headers are larger than the server accepts";
                }
                default -> {
                    code = "bad_request";
                    message = "the request is not valid HTTP/1.1";
                }
            }
            byte[] body = ("{\"error\":{\"code\":\"" + code + "\",\"message\":\"" + message + "\"}}")
                    .getBytes(StandardCharsets.UTF_8);
            response.setContentType("application/json");
            response.setHeader(org.glassfish.grizzly.http.util.Header.ContentType, "application/json");
            response.setContentLength(body.length);
            return HttpContent.builder(response)
                    .content(Buffers.wrap(MemoryManager.DEFAULT_MEMORY_MANAGER, body))
                    .last(true)
                    .build();
        }
    }
}
