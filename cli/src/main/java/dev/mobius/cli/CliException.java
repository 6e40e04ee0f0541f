package dev.mobius.cli;

/** A failure shown as {@code <code>: <message>} on stderr, with the command's exit status. */
public final class CliException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** The API answered with an error, or could not be reached. */
    public static final int API = 1;
    /** The command line itself is wrong (picocli's own status for usage errors). */
    public static final int USAGE = 2;

    private final String code;
    private final int exitCode;
    private final String details;

    public CliException(String code, String message, int exitCode) {
        this(code, message, exitCode, null);
    }

    public CliException(String code, String message, int exitCode, String details) {
        super(message);
        this.code = code;
        this.exitCode = exitCode;
        this.details = details;
    }

    public static CliException usage(String message) {
        return new CliException("usage", message, USAGE);
    }

    public String code() {
        return code;
    }

    public int exitCode() {
        return exitCode;
    }

    /** The error envelope's {@code details}, as compact JSON, or null. */
    public String details() {
        return details;
    }
}
