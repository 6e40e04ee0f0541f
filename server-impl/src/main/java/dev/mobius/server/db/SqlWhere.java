package dev.mobius.server.db;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.statement.SqlStatement;

/**
 * Builds the WHERE clause of a filtered list query: conditions are fixed SQL written by the DAO,
 * values are always bound parameters, never concatenated.
 */
public final class SqlWhere {
    private final List<String> conditions = new ArrayList<>();
    private final Map<String, Object> bindings = new LinkedHashMap<>();

    public SqlWhere and(String condition) {
        conditions.add(condition);
        return this;
    }

    public SqlWhere and(String condition, String name, Object value) {
        conditions.add(condition);
        bindings.put(name, value);
        return this;
    }

    /** Adds the condition only when {@code value} is non-null. */
    public SqlWhere andIf(Object value, String condition, String name) {
        if (value != null) {
            and(condition, name, value);
        }
        return this;
    }

    public SqlWhere bind(String name, Object value) {
        bindings.put(name, value);
        return this;
    }

    public String sql() {
        return conditions.isEmpty() ? "TRUE" : String.join(" AND ", conditions);
    }

    public <S extends SqlStatement<S>> S bindTo(S statement) {
        bindings.forEach(statement::bind);
        return statement;
    }

    /**
     * Runs {@code select} (a SELECT ... FROM ...) with this WHERE clause, then {@code orderBy} and a
     * LIMIT, mapping rows to {@code type}: the one shape of every filtered list query.
     */
    public <T> List<T> list(Handle handle, String select, String orderBy, int limit, Class<T> type) {
        return bindTo(handle.createQuery(select + " WHERE " + sql() + " " + orderBy + " LIMIT :limit"))
                .bind("limit", limit)
                .mapTo(type)
                .list();
    }
}
