package dev.mobius.server.http;

import jakarta.validation.ConstraintViolationException;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.glassfish.jersey.server.spi.ValidationInterceptor;
import org.glassfish.jersey.server.spi.ValidationInterceptorContext;

/**
 * Request rules the contract's schema cannot express, checked in the same pass as the generated
 * bean-validation constraints so one 400 lists every failing field: the TagMap rules
 * ({@code mobius:} keys reserved, key and value lengths) on any request body with {@code tags},
 * and the rules features register for their own request models ({@link #with}).
 */
public final class RequestRules implements ValidationInterceptor {
    /** A feature's rule for one request model, adding its failures to the shared validator. */
    public interface ModelRule<T> {
        void check(T body, Validator v);
    }

    private final Map<Class<?>, List<ModelRule<Object>>> modelRules = new java.util.HashMap<>();

    /** Registers a rule for a request model (wiring time only, before the server starts). */
    @SuppressWarnings("unchecked") // the rule is only ever called with instances of the type
    public <T> RequestRules with(Class<T> model, ModelRule<? super T> rule) {
        modelRules.computeIfAbsent(model, k -> new ArrayList<>()).add((ModelRule<Object>) rule);
        return this;
    }

    /** The {@code getTags} of each request model that has one, looked up once per class, not per request. */
    private final ClassValue<Method> tagGetters = new ClassValue<>() {
        @Override
        protected Method computeValue(Class<?> type) {
            if (!type.getPackageName().endsWith(".api.model")) {
                return null;
            }
            try {
                Method getter = type.getMethod("getTags");
                return Map.class.isAssignableFrom(getter.getReturnType()) ? getter : null;
            } catch (NoSuchMethodException e) {
                return null;
            }
        }
    };

    @Override
    public void onValidate(ValidationInterceptorContext context) {
        Validator extra = new Validator();
        for (Object arg : context.getArgs()) {
            Map<String, String> tags = tagsOf(arg);
            if (tags != null) {
                Tags.validate(tags, "tags", extra);
            }
            if (arg != null) {
                for (ModelRule<Object> rule : modelRules.getOrDefault(arg.getClass(), List.of())) {
                    rule.check(arg, extra);
                }
            }
        }
        try {
            context.proceed();
        } catch (ConstraintViolationException violations) {
            if (!extra.hasErrors()) {
                throw violations;
            }
            List<ApiException.FieldError> all = new ArrayList<>(ErrorMappers.fieldErrors(violations));
            all.addAll(extra.errors());
            all.sort(java.util.Comparator.comparing(ApiException.FieldError::field));
            throw new Violation(all);
        }
        if (extra.hasErrors()) {
            throw new Violation(extra.errors());
        }
    }

    /**
     * Failures found during Jersey's validation step. Jersey only renders exceptions of the
     * validation family from that step, so the failure travels as one and is mapped to the
     * usual 400 envelope by {@link ErrorMappers.Rules}.
     */
    public static final class Violation extends jakarta.validation.ValidationException {
        private final transient List<ApiException.FieldError> fields;

        Violation(List<ApiException.FieldError> fields) {
            super("request validation failed");
            this.fields = List.copyOf(fields);
        }

        public ApiException toApiException() {
            return ApiException.validation(fields);
        }
    }

    /** The {@code tags} of a generated request model, if it has them (every tagged request names them so). */
    @SuppressWarnings("unchecked") // every generated model's tags are a Map<String, String>
    private Map<String, String> tagsOf(Object arg) {
        if (arg == null) {
            return null;
        }
        Method getter = tagGetters.get(arg.getClass());
        if (getter == null) {
            return null;
        }
        try {
            return (Map<String, String>) getter.invoke(arg);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }
}
