package dev.mobius.server.db;

import java.lang.reflect.Type;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.jdbi.v3.core.config.ConfigRegistry;
import org.jdbi.v3.core.generic.GenericTypes;
import org.jdbi.v3.core.mapper.RowMapper;
import org.jdbi.v3.core.mapper.RowMapperFactory;
import org.jdbi.v3.core.mapper.reflect.ConstructorMapper;
import org.jdbi.v3.core.statement.StatementContext;

/**
 * Maps rows to the server's row records through their canonical constructors (snake_case
 * columns to camelCase components, {@code @Nested} honoured), like JDBI's {@link ConstructorMapper},
 * but specializes once per record and column layout. JDBI's mapper works out the column
 * positions and column mappers again for every result set, which in a busy server cost more than
 * reading the rows. One instance is registered on the {@code Jdbi}; every handle shares it.
 */
final class RecordMappers implements RowMapperFactory {
    private final Map<Class<?>, Cached<?>> byRecord = new ConcurrentHashMap<>();

    @Override
    public Optional<RowMapper<?>> build(Type type, ConfigRegistry config) {
        Class<?> raw = GenericTypes.getErasedType(type);
        if (!raw.isRecord() || !raw.getPackageName().startsWith("dev.mobius.")) {
            return Optional.empty();
        }
        return Optional.of(byRecord.computeIfAbsent(raw, Cached::new));
    }

    /** One record's mapper, specialized for each column layout it has met. */
    private static final class Cached<T> implements RowMapper<T> {
        private final RowMapper<T> generic;
        private final Map<List<String>, RowMapper<T>> byColumns = new ConcurrentHashMap<>();

        Cached(Class<T> record) {
            this.generic = ConstructorMapper.of(record);
        }

        @Override
        public T map(ResultSet rs, StatementContext ctx) throws SQLException {
            return specialize(rs, ctx).map(rs, ctx);
        }

        @Override
        public RowMapper<T> specialize(ResultSet rs, StatementContext ctx) throws SQLException {
            List<String> columns = columns(rs.getMetaData());
            RowMapper<T> known = byColumns.get(columns);
            if (known == null) {
                known = generic.specialize(rs, ctx);
                byColumns.putIfAbsent(columns, known);
            }
            return known;
        }

        private static List<String> columns(ResultSetMetaData meta) throws SQLException {
            List<String> columns = new ArrayList<>(meta.getColumnCount());
            for (int i = 1; i <= meta.getColumnCount(); i++) {
                columns.add(meta.getColumnLabel(i));
            }
            return columns;
        }
    }
}
