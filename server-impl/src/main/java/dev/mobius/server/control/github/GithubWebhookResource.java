package dev.mobius.server.control.github;

import dev.mobius.mogplex.api.ControlWebhooksApi;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.nio.charset.StandardCharsets;

/** {@code POST /api/webhooks/github}: 202 when something was published or queued, else 200. */
public final class GithubWebhookResource implements ControlWebhooksApi {
    private final GithubWebhookService webhooks;

    public GithubWebhookResource(GithubWebhookService webhooks) {
        this.webhooks = webhooks;
    }

    @Override
    public Response receiveGithubWebhook(String body, String event, String delivery, String signature) {
        // The text is JSON as GitHub sent it (UTF-8), so its UTF-8 bytes are the bytes it signed.
        GithubWebhookService.Result result = webhooks.receive(
                (body == null ? "" : body).getBytes(StandardCharsets.UTF_8), signature, event, delivery);
        return Response.status(result.accepted() ? 202 : 200)
                .type(MediaType.APPLICATION_JSON_TYPE)
                .entity(dev.mobius.server.control.sessions.Bodies.tree(result.body()))
                .build();
    }
}
