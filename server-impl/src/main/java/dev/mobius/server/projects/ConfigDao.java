package dev.mobius.server.projects;

import java.util.List;
import org.jdbi.v3.sqlobject.customizer.Bind;
import org.jdbi.v3.sqlobject.statement.SqlBatch;
import org.jdbi.v3.sqlobject.statement.SqlQuery;
import org.jdbi.v3.sqlobject.statement.SqlUpdate;

public interface ConfigDao {
    record Entry(String key, String value) {}

    @SqlQuery("SELECT key, value FROM project_config WHERE project_id = :projectId ORDER BY position")
    List<Entry> list(@Bind("projectId") String projectId);

    @SqlUpdate("DELETE FROM project_config WHERE project_id = :projectId")
    int clear(@Bind("projectId") String projectId);

    @SqlBatch(
            "INSERT INTO project_config (project_id, position, key, value) VALUES (:projectId, :position, :key, :value)")
    void insert(
            @Bind("projectId") String projectId,
            @Bind("position") List<Integer> positions,
            @Bind("key") List<String> keys,
            @Bind("value") List<String> values);
}
