package dev.mobius.server.http;

import java.util.ArrayList;
import java.util.List;

/** Collects every failing field of one request, so the caller sees all problems at once. */
public final class Validator {
    private final List<ApiException.FieldError> errors = new ArrayList<>();

    public Validator require(boolean ok, String field, String reason) {
        if (!ok) {
            errors.add(new ApiException.FieldError(field, reason));
        }
        return this;
    }

    public Validator add(String field, String reason) {
        errors.add(new ApiException.FieldError(field, reason));
        return this;
    }

    public List<ApiException.FieldError> errors() {
        return List.copyOf(errors);
    }

    public boolean hasErrors() {
        return !errors.isEmpty();
    }

    /** Throws 400 {@code validation_failed} listing every collected field, if any. */
    public void throwIfInvalid() {
        if (!errors.isEmpty()) {
            throw ApiException.validation(List.copyOf(errors));
        }
    }
}
