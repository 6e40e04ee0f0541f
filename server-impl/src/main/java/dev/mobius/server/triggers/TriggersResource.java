package dev.mobius.server.triggers;

import dev.mobius.api.TriggersApi;
import jakarta.ws.rs.core.Response;
import java.util.Map;

/** The unauthenticated ingest URL of HTTP triggers. */
// Jersey reads the class-level @Path from the class itself, not from the generated interface;
// ResourcePathsTest keeps this copy equal to it.
@jakarta.ws.rs.Path("/v1/triggers/http/{http_handle}")
public final class TriggersResource implements TriggersApi {
    private final TriggerDeliveries deliveries;

    public TriggersResource(TriggerDeliveries deliveries) {
        this.deliveries = deliveries;
    }

    @Override
    public Response deliverHTTPTrigger(
            String httpHandle,
            String idempotencyKey,
            String xIdempotencyKey,
            String idempotencyKey2,
            String signature,
            String signatureVersion,
            String timestamp,
            String deliveryId,
            String secretVersion,
            Map<String, Object> body) {
        // The signature headers were checked by TriggerSecrets before the body was read.
        String key = firstNonBlank(idempotencyKey, xIdempotencyKey, idempotencyKey2, deliveryId);
        return Response.accepted(deliveries.deliver(httpHandle, key, body)).build();
    }

    private static String firstNonBlank(String... values) {
        for (String v : values) {
            if (v != null && !v.isBlank()) {
                return v;
            }
        }
        return null;
    }
}
