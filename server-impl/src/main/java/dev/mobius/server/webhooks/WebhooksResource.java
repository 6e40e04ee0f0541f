package dev.mobius.server.webhooks;

import dev.mobius.api.WebhooksApi;
import dev.mobius.api.model.CreateWebhookRequest;
import dev.mobius.api.model.PingWebhookRequest;
import dev.mobius.api.model.UpdateWebhookRequest;
import dev.mobius.server.tenancy.CallerContext;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.SecurityContext;
import java.util.List;

/** HTTP face of {@link WebhookService}. */
// Jersey reads the class-level @Path from the class itself, not from the generated interface;
// ResourcePathsTest keeps this copy equal to it.
@jakarta.ws.rs.Path("/v1/projects/{project}/webhooks")
public final class WebhooksResource implements WebhooksApi {
    private final WebhookService webhooks;

    @Context
    private SecurityContext security;

    public WebhooksResource(WebhookService webhooks) {
        this.webhooks = webhooks;
    }

    @Override
    public Response listWebhooks(String project, Boolean enabled, List<String> tag, String cursor, Integer limit) {
        return Response.ok(webhooks.list(CallerContext.of(security), project, enabled, tag, cursor, limit))
                .build();
    }

    @Override
    public Response createWebhook(String project, CreateWebhookRequest request) {
        return Response.status(Response.Status.CREATED)
                .entity(webhooks.create(CallerContext.of(security), project, request))
                .build();
    }

    @Override
    public Response getWebhook(String project, String id) {
        return Response.ok(webhooks.get(CallerContext.of(security), project, id))
                .build();
    }

    @Override
    public Response updateWebhook(String project, String id, UpdateWebhookRequest request) {
        return Response.ok(webhooks.update(CallerContext.of(security), project, id, request))
                .build();
    }

    @Override
    public Response deleteWebhook(String project, String id) {
        webhooks.delete(CallerContext.of(security), project, id);
        return Response.noContent().build();
    }

    @Override
    public Response rotateWebhookSecret(String project, String id) {
        return Response.ok(webhooks.rotate(CallerContext.of(security), project, id))
                .build();
    }

    @Override
    public Response pingWebhook(String project, String id, PingWebhookRequest request) {
        return Response.ok(webhooks.ping(CallerContext.of(security), project, id, request))
                .build();
    }

    @Override
    public Response listWebhookDeliveries(String project, String id, String cursor, Integer limit) {
        return Response.ok(webhooks.deliveries(CallerContext.of(security), project, id, cursor, limit))
                .build();
    }
}
