package dev.mobius.contract;

import dev.mobius.conformance.ContractReplay;
import dev.mobius.server.TestServer;

/**
 * The model catalogue the control-plane examples show (x-replay-setup {@code control-models}): a
 * worker of the first user's personal project registers {@code anthropic/claude-sonnet-4},
 * {@code openai/gpt-4o} and {@code openai/gpt-4o-mini}, and the operator describes them in
 * {@code model_catalog} (Claude with a name, a context length, prices and capability tags; gpt-4o
 * with tags only; gpt-4o-mini hidden). The worker is a session row seen until tomorrow, as the
 * catalogue reads connected workers; no socket is needed to list models.
 */
final class ControlModelsSeed {
    private ControlModelsSeed() {}

    static void install(ContractReplay replay, TestServer server) {
        replay.withSetup("control-models", () -> seed(server));
    }

    static void seed(TestServer server) {
        server.server().database().jdbi().useTransaction(h -> {
            h.execute("INSERT INTO worker_sessions (id, org_id, project_id, worker_instance_id, token_sha256,"
                    + " principal_id, concurrency_limit, models, connection_id, created_at, last_seen_at,"
                    + " last_activity_at)"
                    + " SELECT 'wses_controlmodelsseed', p.org_id, p.id, 'control-models-seed', '\\x00'::bytea,"
                    + " u.principal_id, 1,"
                    + " '[{\"provider\":\"anthropic\",\"model\":\"claude-sonnet-4\"},"
                    + "{\"provider\":\"openai\",\"model\":\"gpt-4o\"},{\"provider\":\"openai\",\"model\":\"gpt-4o-mini\"}]',"
                    + " 'control-models-seed', now(), now() + interval '1 day', now()"
                    + " FROM users u JOIN projects p ON p.id = u.project_id WHERE u.username = 'admin'");
            h.execute("INSERT INTO model_catalog (model_id, name, context_length, pricing_input, pricing_output,"
                    + " capabilities, is_hidden) VALUES"
                    + " ('anthropic/claude-sonnet-4', 'Claude Sonnet 4', 200000, 0.000003, 0.000015,"
                    + " ARRAY['Tool-Use', 'vision', 'thinking'], false),"
                    + " ('openai/gpt-4o', NULL, NULL, NULL, NULL, ARRAY['function_calling', 'speech'], false),"
                    + " ('openai/gpt-4o-mini', NULL, NULL, NULL, NULL, '{}', true)"
                    + " ON CONFLICT (model_id) DO UPDATE SET name = excluded.name,"
                    + " context_length = excluded.context_length, pricing_input = excluded.pricing_input,"
                    + " pricing_output = excluded.pricing_output, capabilities = excluded.capabilities,"
                    + " is_hidden = excluded.is_hidden");
        });
    }
}
