package dev.mobius.server.audit;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mobius.server.db.Daos;
import dev.mobius.server.ids.Ids;
import dev.mobius.server.json.Json;
import dev.mobius.server.tenancy.Caller;
import dev.mobius.server.time.Times;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import org.jdbi.v3.core.Handle;

/**
 * Writes audit entries inside the caller's transaction, so an entry exists exactly when the
 * change it describes was committed. Summaries hold the fields a person cares about, never
 * ids or timestamps, so they stay comparable.
 */
public final class AuditTrail {
    public enum Action {
        create,
        update,
        delete,
        archive,
        restore
    }

    private final Ids ids;
    private final ObjectMapper mapper;

    public AuditTrail(Ids ids, ObjectMapper mapper) {
        this.ids = ids;
        this.mapper = mapper;
    }

    public void created(
            Handle h, Caller caller, String projectId, String type, String id, String name, Map<String, Object> after) {
        write(h, caller, projectId, Action.create, type, id, name, null, after);
    }

    public void deleted(
            Handle h,
            Caller caller,
            String projectId,
            String type,
            String id,
            String name,
            Map<String, Object> before) {
        write(h, caller, projectId, Action.delete, type, id, name, before, null);
    }

    /** Records only the fields whose values differ; writes nothing when nothing changed. */
    public void updated(
            Handle h,
            Caller caller,
            String projectId,
            String type,
            String id,
            String name,
            Map<String, Object> before,
            Map<String, Object> after) {
        Map<String, Object> b = new LinkedHashMap<>();
        Map<String, Object> a = new LinkedHashMap<>();
        java.util.Set<String> keys = new java.util.LinkedHashSet<>(before.keySet());
        keys.addAll(after.keySet());
        for (String key : keys) {
            if (!Objects.equals(before.get(key), after.get(key))) {
                if (before.get(key) != null) {
                    b.put(key, before.get(key));
                }
                if (after.get(key) != null) {
                    a.put(key, after.get(key));
                }
            }
        }
        if (!b.isEmpty() || !a.isEmpty()) {
            write(h, caller, projectId, Action.update, type, id, name, b, a);
        }
    }

    public void write(
            Handle h,
            Caller caller,
            String projectId,
            Action action,
            String type,
            String id,
            String name,
            Map<String, Object> before,
            Map<String, Object> after) {
        Map<String, Object> changes = new LinkedHashMap<>();
        if (before != null) {
            changes.put("before", before);
        }
        if (after != null) {
            changes.put("after", after);
        }
        Daos.of(h, AuditDao.class)
                .insert(new AuditRow(
                        ids.next("aud"),
                        caller.orgId(),
                        projectId,
                        caller.principalId(),
                        caller.principalName(),
                        caller.keyId(),
                        caller.keyName(),
                        action.name(),
                        type,
                        id,
                        name,
                        changes.isEmpty() ? null : Json.write(mapper, changes),
                        caller.ipAddress(),
                        caller.userAgent(),
                        caller.requestId(),
                        Times.now()));
    }

    /** A summary map without null values, in the order given: {@code summary("name", n, "tags", t)}. */
    public static Map<String, Object> summary(Object... keyValues) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < keyValues.length; i += 2) {
            if (keyValues[i + 1] != null) {
                m.put((String) keyValues[i], keyValues[i + 1]);
            }
        }
        return m;
    }
}
