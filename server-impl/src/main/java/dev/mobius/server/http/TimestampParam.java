package dev.mobius.server.http;

import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.ext.ParamConverter;
import jakarta.ws.rs.ext.ParamConverterProvider;
import java.lang.annotation.Annotation;
import java.lang.reflect.Type;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.List;

/** RFC 3339 timestamps in query parameters ({@code created_after=2026-05-01T12:00:00Z}). */
public final class TimestampParam implements ParamConverterProvider {
    @Override
    @SuppressWarnings("unchecked") // T is OffsetDateTime here, checked on the first line
    public <T> ParamConverter<T> getConverter(Class<T> rawType, Type genericType, Annotation[] annotations) {
        if (rawType != OffsetDateTime.class) {
            return null;
        }
        String name = "timestamp";
        for (Annotation a : annotations) {
            if (a instanceof QueryParam q) {
                name = q.value();
            }
        }
        String field = name;
        return (ParamConverter<T>) new ParamConverter<OffsetDateTime>() {
            @Override
            public OffsetDateTime fromString(String value) {
                if (value == null || value.isEmpty()) {
                    return null;
                }
                try {
                    return OffsetDateTime.parse(value);
                } catch (DateTimeParseException e) {
                    throw ApiException.invalidParameter(List.of(new ApiException.FieldError(
                            field, "must be an RFC 3339 timestamp such as 2026-05-01T12:00:00Z")));
                }
            }

            @Override
            public String toString(OffsetDateTime value) {
                return value.toString();
            }
        };
    }
}
