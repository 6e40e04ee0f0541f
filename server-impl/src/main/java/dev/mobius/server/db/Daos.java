package dev.mobius.server.db;

import java.util.HashMap;
import java.util.Map;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.config.JdbiConfig;

/**
 * SQL objects attached once per handle. Attaching builds a handler for every method of the
 * interface, which costs far more than the statement a caller usually wants; a transaction that
 * touches the same DAO from several places reuses the first one. Kept in the handle's own
 * configuration, so it lives and dies with the handle and no two threads ever share it.
 */
public final class Daos implements JdbiConfig<Daos> {
    private final Map<Class<?>, Object> attached = new HashMap<>();

    public Daos() {}

    /** The handle's instance of the SQL object {@code type}, attached on first use. */
    public static <T> T of(Handle h, Class<T> type) {
        Map<Class<?>, Object> attached = h.getConfig(Daos.class).attached;
        Object dao = attached.get(type);
        if (dao == null) {
            dao = h.attach(type);
            attached.put(type, dao);
        }
        return type.cast(dao);
    }

    @Override
    public Daos createCopy() {
        // A copy belongs to another handle (or statement): it starts empty.
        return new Daos();
    }
}
