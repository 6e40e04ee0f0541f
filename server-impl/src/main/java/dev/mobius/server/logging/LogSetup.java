package dev.mobius.server.logging;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.encoder.Encoder;
import ch.qos.logback.core.spi.ContextAwareBase;
import java.util.Map;

/**
 * How the server logs, set in code rather than an XML file so that one environment variable picks
 * the format: {@code MOBIUS_LOG_FORMAT=json} writes one JSON object per line ({@link JsonLines}),
 * anything else readable text lines. Both go to standard output; the levels are the same either way.
 * Logback finds this class through {@code META-INF/services}.
 */
public final class LogSetup extends ContextAwareBase implements Configurator {
    /** Libraries that say too much at INFO; the lost database is reported once by our own loops. */
    static final Map<String, Level> LEVELS = Map.of(
            "com.zaxxer.hikari", Level.WARN,
            "com.zaxxer.hikari.pool.ProxyConnection", Level.ERROR,
            "org.flywaydb", Level.WARN,
            "org.glassfish", Level.WARN,
            "org.glassfish.jersey.internal.inject.Providers", Level.ERROR,
            "io.swagger", Level.WARN);

    /** The text line: time, level, the logger's short name, message (the format scripts and docs show). */
    static final String TEXT_PATTERN = "%d{yyyy-MM-dd'T'HH:mm:ss.SSSX} %level %logger{0} - %msg%n";

    @Override
    public ExecutionStatus configure(LoggerContext context) {
        install(context, "json".equalsIgnoreCase(System.getenv("MOBIUS_LOG_FORMAT")));
        return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
    }

    /**
     * Switches to the format a configuration file asks for. Logging starts before the file is read,
     * from the environment alone; the environment still wins when it names a format.
     */
    public static void useFormat(String format) {
        if (format == null || System.getenv("MOBIUS_LOG_FORMAT") != null) {
            return;
        }
        if (org.slf4j.LoggerFactory.getILoggerFactory() instanceof LoggerContext context) {
            context.getLogger(Logger.ROOT_LOGGER_NAME).detachAndStopAllAppenders();
            install(context, "json".equalsIgnoreCase(format.strip()));
        }
    }

    private static void install(LoggerContext context, boolean json) {
        Encoder<ILoggingEvent> encoder;
        if (json) {
            JsonLines lines = new JsonLines();
            lines.setContext(context);
            encoder = lines;
        } else {
            PatternLayoutEncoder text = new PatternLayoutEncoder();
            text.setContext(context);
            text.setPattern(TEXT_PATTERN);
            encoder = text;
        }
        encoder.start();
        ConsoleAppender<ILoggingEvent> console = new ConsoleAppender<>();
        console.setContext(context);
        console.setName("console");
        console.setEncoder(encoder);
        console.start();
        Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
        root.setLevel(Level.INFO);
        root.addAppender(console);
        LEVELS.forEach((name, level) -> context.getLogger(name).setLevel(level));
    }
}
