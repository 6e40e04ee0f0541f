package dev.mobius.server.control.sessions;

import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Answer bodies of the control-plane routes as JSON text: their shapes carry explicit nulls
 * ({@code "user": null}, {@code "expiresAt": null}), which the server's mapper would leave out.
 */
public final class Bodies {
    private static final ObjectMapper PLAIN = new ObjectMapper();

    private Bodies() {}

    /** Maps, lists, strings, numbers and booleans as JSON text, nulls kept. */
    public static String tree(Object value) {
        try {
            return PLAIN.writeValueAsString(value);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("an answer body is not serializable", e);
        }
    }
}
