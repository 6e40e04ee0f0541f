package dev.mobius.server.http;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
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

    /** Like {@link #throwIfInvalid()}, with the fields in path order. */
    public void throwIfInvalidSorted() {
        if (!errors.isEmpty()) {
            throw ApiException.validation(sortedByField(errors));
        }
    }

    /** A copy in path order; the reasons of one field keep their order. */
    public static List<ApiException.FieldError> sortedByField(Collection<ApiException.FieldError> errors) {
        List<ApiException.FieldError> sorted = new ArrayList<>(errors);
        sorted.sort(Comparator.comparing(ApiException.FieldError::field));
        return sorted;
    }
}
