package dev.mobius.server.logging;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.encoder.EncoderBase;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.Map;

/**
 * One JSON object per log event, on one line: {@code timestamp}, {@code level}, {@code logger},
 * {@code message}, the request's {@code request_id}, {@code trace_id}, {@code project} and
 * {@code principal} (empty outside a request), and {@code exception} as text when there is one.
 * The request fields come from the MDC, which the request filters fill with ids only, never a
 * credential (see {@code http.RequestLog}).
 */
public final class JsonLines extends EncoderBase<ILoggingEvent> {
    /** The MDC keys the request filters set, written under the same names. */
    public static final String REQUEST_ID = "request_id";

    public static final String TRACE_ID = "trace_id";
    public static final String PROJECT = "project";
    public static final String PRINCIPAL = "principal";
    private static final byte[] NONE = new byte[0];

    private final JsonFactory json = new JsonFactory();

    @Override
    public byte[] headerBytes() {
        return NONE;
    }

    @Override
    public byte[] footerBytes() {
        return NONE;
    }

    @Override
    public byte[] encode(ILoggingEvent event) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(256);
        try (JsonGenerator g = json.createGenerator(out)) {
            Map<String, String> mdc = event.getMDCPropertyMap();
            g.writeStartObject();
            g.writeStringField(
                    "timestamp", Instant.ofEpochMilli(event.getTimeStamp()).toString());
            g.writeStringField("level", event.getLevel().toString());
            g.writeStringField("logger", event.getLoggerName());
            g.writeStringField("message", event.getFormattedMessage());
            for (String key : new String[] {REQUEST_ID, TRACE_ID, PROJECT, PRINCIPAL}) {
                String value = mdc == null ? null : mdc.get(key);
                g.writeStringField(key, value == null ? "" : value);
            }
            IThrowableProxy thrown = event.getThrowableProxy();
            if (thrown != null) {
                g.writeStringField("exception", ThrowableProxyUtil.asString(thrown));
            }
            g.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        out.write('\n');
        return out.toByteArray();
    }
}
