package dev.mobius.server.actions;

/** How one call ended: an output, or a failure that another attempt may ({@code retryable}) fix. */
record CallResult(boolean ok, Object output, String errorType, String message, boolean retryable, Long retryAfterMs) {
    static CallResult success(Object output) {
        return new CallResult(true, output, null, null, false, null);
    }

    static CallResult failure(String type, String message, boolean retryable) {
        return new CallResult(false, null, type, message, retryable, null);
    }

    static CallResult failure(String type, String message, boolean retryable, Long retryAfterMs) {
        return new CallResult(false, null, type, message, retryable, retryAfterMs);
    }
}
