package dev.mobius.server.events;

import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.commons.jexl3.JexlBuilder;
import org.apache.commons.jexl3.JexlEngine;
import org.apache.commons.jexl3.JexlException;
import org.apache.commons.jexl3.JexlExpression;
import org.apache.commons.jexl3.JexlFeatures;
import org.apache.commons.jexl3.MapContext;
import org.apache.commons.jexl3.introspection.JexlPermissions;

/**
 * The expression language of conditions and payload mappings: JEXL reduced to pure expressions.
 * Allowed: literals, variables with dotted or bracket access ({@code event.pull_request.number},
 * {@code event['x-id']}), comparison, arithmetic, {@code && || !} (and {@code and or not}),
 * {@code ?:}, {@code =~} (in a list, or regex match), {@code =^} (starts with), {@code =$} (ends
 * with), {@code empty(x)} and {@code size(x)}. Refused at parse time: method calls, {@code new},
 * loops, assignments and any other side effect, lambdas, pragmas, multi-statement scripts.
 * A missing property reads as {@code null}, so {@code event.x == null} tests for absence.
 */
public final class Expressions {
    private static final int MAX_LENGTH = 1000;

    private static final JexlFeatures FEATURES = new JexlFeatures()
            .methodCall(false)
            .newInstance(false)
            .loops(false)
            .sideEffect(false)
            .sideEffectGlobal(false)
            .lambda(false)
            .fatArrow(false)
            .thinArrow(false)
            .script(false)
            .localVar(false)
            .pragma(false)
            .pragmaAnywhere(false)
            .annotation(false)
            .register(false)
            .importPragma(false)
            .namespacePragma(false)
            .namespaceIdentifier(false);

    private final JexlEngine jexl = new JexlBuilder()
            .features(FEATURES)
            .permissions(JexlPermissions.RESTRICTED)
            .strict(false)
            .safe(true)
            .silent(false)
            .cache(512)
            .create();
    /** Parsed expressions by source; specs are immutable, so the same texts come back on every run. */
    private final Map<String, JexlExpression> parsed = new ConcurrentHashMap<>();

    /** Why {@code source} is not a valid expression, if it is not. */
    public Optional<String> problem(String source) {
        if (source == null || source.isBlank()) {
            return Optional.of("must not be empty");
        }
        if (source.length() > MAX_LENGTH) {
            return Optional.of("must be at most " + MAX_LENGTH + " characters");
        }
        try {
            parse(source);
            return Optional.empty();
        } catch (JexlException e) {
            return Optional.of("is not a valid expression: " + reason(e));
        }
    }

    /** Evaluates to whatever value the expression yields over {@code variables}. */
    public Object evaluate(String source, Map<String, Object> variables) {
        try {
            return parse(source).evaluate(new MapContext(new java.util.HashMap<>(variables)));
        } catch (JexlException e) {
            throw new ExpressionException("expression \"" + source + "\" failed: " + reason(e));
        } catch (ArithmeticException | ClassCastException e) {
            throw new ExpressionException("expression \"" + source + "\" failed: " + e.getMessage());
        }
    }

    /** Evaluates a condition, which must yield true or false. */
    public boolean test(String source, Map<String, Object> variables) {
        Object value = evaluate(source, variables);
        if (value instanceof Boolean b) {
            return b;
        }
        throw new ExpressionException("condition \"" + source + "\" yielded "
                + (value == null ? "null" : value.getClass().getSimpleName().toLowerCase()) + ", not true or false");
    }

    private JexlExpression parse(String source) {
        JexlExpression e = parsed.get(source);
        if (e == null) {
            e = jexl.createExpression(source);
            if (parsed.size() < 10_000) {
                parsed.put(source, e);
            }
        }
        return e;
    }

    private static String reason(JexlException e) {
        String message = e.getMessage();
        // JEXL prefixes messages with the Java location of the failure; users need only the rest.
        int cut = message == null ? -1 : message.indexOf(' ');
        String rest = cut < 0 ? String.valueOf(message) : message.substring(cut + 1);
        return rest.replace('\n', ' ').trim();
    }

    /** An expression failed at run time: bad types, or a condition that is not a boolean. */
    public static final class ExpressionException extends RuntimeException {
        public ExpressionException(String message) {
            super(message, null, false, false);
        }
    }
}
