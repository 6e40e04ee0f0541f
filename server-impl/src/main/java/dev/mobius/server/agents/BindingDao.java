package dev.mobius.server.agents;

import java.time.OffsetDateTime;
import java.util.List;
import java.util.Optional;
import org.jdbi.v3.sqlobject.customizer.Bind;
import org.jdbi.v3.sqlobject.customizer.BindMethods;
import org.jdbi.v3.sqlobject.statement.SqlQuery;
import org.jdbi.v3.sqlobject.statement.SqlUpdate;

/** SQL of agents' messaging bindings. */
public interface BindingDao {
    /** One row of {@code agent_messaging_bindings}; jsonb columns as text. */
    record BindingRow(
            String id,
            String agentId,
            String projectId,
            String provider,
            String integrationId,
            boolean enabled,
            boolean dms,
            boolean mentions,
            boolean allMessages,
            String channels,
            String dmPolicy,
            String senderAllow,
            String replyMode,
            String modelRoute,
            OffsetDateTime createdAt,
            OffsetDateTime updatedAt) {}

    String COLUMNS = "id, agent_id, project_id, provider, integration_id, enabled, dms, mentions, all_messages, "
            + "channels::text AS channels, dm_policy, sender_allow::text AS sender_allow, reply_mode, "
            + "model_route::text AS model_route, created_at, updated_at";

    @SqlQuery("SELECT " + COLUMNS + " FROM agent_messaging_bindings WHERE agent_id = :agentId ORDER BY created_at, id")
    List<BindingRow> list(@Bind("agentId") String agentId);

    @SqlQuery("SELECT " + COLUMNS + " FROM agent_messaging_bindings WHERE agent_id = :agentId AND id = :id")
    Optional<BindingRow> find(@Bind("agentId") String agentId, @Bind("id") String id);

    /** The bindings of other agents on one integration, locked: two saves claiming a channel serialise here. */
    @SqlQuery("SELECT " + COLUMNS + " FROM agent_messaging_bindings WHERE project_id = :projectId "
            + "AND provider = :provider AND integration_id = :integrationId AND agent_id <> :agentId FOR UPDATE")
    List<BindingRow> others(
            @Bind("projectId") String projectId,
            @Bind("provider") String provider,
            @Bind("integrationId") String integrationId,
            @Bind("agentId") String agentId);

    @SqlUpdate(
            "INSERT INTO agent_messaging_bindings (id, agent_id, project_id, provider, integration_id, enabled, dms, "
                    + "mentions, all_messages, channels, dm_policy, sender_allow, reply_mode, model_route, created_at, updated_at) "
                    + "VALUES (:id, :agentId, :projectId, :provider, :integrationId, :enabled, :dms, :mentions, :allMessages, "
                    + "CAST(:channels AS jsonb), :dmPolicy, CAST(:senderAllow AS jsonb), :replyMode, CAST(:modelRoute AS jsonb), "
                    + ":createdAt, :updatedAt) ON CONFLICT (agent_id, provider, integration_id) DO UPDATE SET "
                    + "enabled = EXCLUDED.enabled, dms = EXCLUDED.dms, mentions = EXCLUDED.mentions, "
                    + "all_messages = EXCLUDED.all_messages, channels = EXCLUDED.channels, dm_policy = EXCLUDED.dm_policy, "
                    + "sender_allow = EXCLUDED.sender_allow, reply_mode = EXCLUDED.reply_mode, "
                    + "model_route = EXCLUDED.model_route, updated_at = EXCLUDED.updated_at")
    void save(@BindMethods BindingRow row);

    @SqlQuery("SELECT " + COLUMNS + " FROM agent_messaging_bindings WHERE agent_id = :agentId AND provider = :provider "
            + "AND integration_id = :integrationId")
    Optional<BindingRow> findByIntegration(
            @Bind("agentId") String agentId,
            @Bind("provider") String provider,
            @Bind("integrationId") String integrationId);

    @SqlUpdate("DELETE FROM agent_messaging_bindings WHERE agent_id = :agentId")
    void deleteAll(@Bind("agentId") String agentId);

    @SqlUpdate("DELETE FROM agent_messaging_bindings WHERE id = :id")
    void delete(@Bind("id") String id);
}
