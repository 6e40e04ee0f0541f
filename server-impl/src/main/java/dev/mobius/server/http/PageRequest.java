package dev.mobius.server.http;

import java.util.List;
import java.util.function.Function;

/**
 * A keyset page request: at most {@code limit} rows after (or before, for newest-first lists)
 * {@code afterId}. Queries fetch {@code limit + 1} rows to learn whether there is more.
 */
public record PageRequest(int limit, String afterId) {
    public static final int DEFAULT_LIMIT = 50;
    public static final int MAX_LIMIT = 200;

    public static PageRequest of(Integer limit, String cursor, String scope, Cursors cursors) {
        return new PageRequest(limit(limit), cursors.decode(scope, cursor));
    }

    /** The {@code limit} parameter: default 50, 1..200, else 400 {@code invalid_parameter}. */
    public static int limit(Integer limit) {
        int n = limit == null ? DEFAULT_LIMIT : limit;
        if (n < 1 || n > MAX_LIMIT) {
            throw ApiException.invalidParameter(
                    List.of(new ApiException.FieldError("limit", "must be between 1 and " + MAX_LIMIT)));
        }
        return n;
    }

    public int fetchSize() {
        return limit + 1;
    }

    /** A page of results cut from the {@code limit + 1} rows a query returned. */
    public record Page<T>(List<T> items, boolean hasMore, String nextCursor) {}

    public <R, T> Page<T> page(
            List<R> rows, Function<R, String> idOf, Function<R, T> toItem, String scope, Cursors cursors) {
        boolean more = rows.size() > limit;
        List<R> kept = more ? rows.subList(0, limit) : rows;
        String next = more ? cursors.encode(scope, idOf.apply(kept.get(kept.size() - 1))) : null;
        return new Page<>(kept.stream().map(toItem).toList(), more, next);
    }
}
