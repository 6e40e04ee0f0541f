package dev.mobius.server.interactions;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mobius.api.model.Consumer;
import dev.mobius.api.model.Delivery;
import dev.mobius.api.model.HttpSubscriberConsumer;
import dev.mobius.api.model.Interaction;
import dev.mobius.api.model.InteractionKind;
import dev.mobius.api.model.InteractionReference;
import dev.mobius.api.model.InteractionResponder;
import dev.mobius.api.model.InteractionResponse;
import dev.mobius.api.model.InteractionSpec;
import dev.mobius.api.model.ResolutionPolicy;
import dev.mobius.server.db.Daos;
import dev.mobius.server.json.Json;
import dev.mobius.server.webhooks.WebhookOutbox;
import java.util.List;
import java.util.Optional;
import org.jdbi.v3.core.Handle;

/**
 * Interactions as getInteraction answers them, and their callbacks. Apart from the service, so that
 * the webhook outbox (which the service itself reports to) can read them without a service of its own.
 */
public final class InteractionViews {
    private final ObjectMapper mapper;

    public InteractionViews(ObjectMapper mapper) {
        this.mapper = mapper;
    }

    /** The interaction, read in the caller's transaction (webhook event data). */
    public Interaction view(Handle h, String interactionId) {
        InteractionDao dao = Daos.of(h, InteractionDao.class);
        InteractionRow row = dao.findById(interactionId)
                .orElseThrow(() -> new IllegalArgumentException("no interaction " + interactionId));
        return of(row, dao.responses(row.id()));
    }

    /**
     * Where the interaction's resolution is posted when its consumer is {@code http_subscriber}
     * (empty otherwise), read in the caller's transaction.
     */
    public Optional<WebhookOutbox.Callback> callback(Handle h, String interactionId) {
        return Daos.of(h, InteractionDao.class).callbackConsumer(interactionId).map(json -> {
            HttpSubscriberConsumer sub = read(json, Consumer.class).getHttpSubscriber();
            InteractionRules.SecretRef ref = InteractionRules.secretRef(sub.getSecretRef())
                    .orElseThrow(() ->
                            new IllegalStateException("interaction " + interactionId + " has a malformed secret_ref"));
            return new WebhookOutbox.Callback(sub.getCallbackUrl().toString(), ref.name(), ref.version());
        });
    }

    Interaction of(InteractionRow row, List<ResponseRow> responses) {
        ResolutionPolicy policy = new ResolutionPolicy()
                .type(ResolutionPolicy.TypeEnum.fromValue(row.policyType()))
                .threshold(row.policyThreshold());
        return new Interaction()
                .id(row.id())
                .runId(row.runId())
                .signalName(row.signalName())
                .createdBy(row.createdBy())
                .kind(InteractionKind.fromValue(row.kind()))
                .status(Interaction.StatusEnum.fromValue(row.status()))
                .title(row.title())
                .description(row.description())
                .subject(read(row.subject(), InteractionReference.class))
                .references(read(row.refs(), new TypeReference<List<InteractionReference>>() {}))
                .context(Json.readObject(mapper, row.context()))
                .tags(Json.readStringMap(mapper, row.tags()))
                .properties(Json.readObject(mapper, row.properties()))
                .spec(read(row.spec(), InteractionSpec.class))
                .targetUserIds(List.of(row.targetUserIds()))
                .responder(
                        row.responderUserId() == null ? null : new InteractionResponder().userId(row.responderUserId()))
                .resolvingResponseId(row.resolvingResponseId())
                .responses(responses.stream().map(this::responseView).toList())
                .expiresAt(row.expiresAt())
                .completedAt(row.completedAt())
                .createdAt(row.createdAt())
                .updatedAt(row.updatedAt())
                .requireAll(row.policyType().equals("all_of"))
                .resolutionPolicy(policy)
                .consumer(read(row.consumer(), Consumer.class))
                .delivery(read(row.delivery(), Delivery.class))
                .outcome(row.outcome() == null ? null : readAny(row.outcome()))
                .resolvedBy(row.resolvedBy())
                .cancelReason(row.cancelReason());
    }

    private InteractionResponse responseView(ResponseRow r) {
        return new InteractionResponse()
                .id(r.id())
                .interactionId(r.interactionId())
                .responseKind(InteractionResponse.ResponseKindEnum.RESPONSE)
                .state(InteractionResponse.StateEnum.SUBMITTED)
                .responderUserId(r.responderUserId())
                .value(readAny(r.value()))
                .comment(r.comment())
                .respondedAt(r.respondedAt())
                .createdAt(r.createdAt())
                .updatedAt(r.updatedAt());
    }

    /** A stored JSON value of any shape (outcomes and response values). */
    Object readAny(String json) {
        return read(json, Object.class);
    }

    private <T> T read(String json, Class<T> type) {
        if (json == null) {
            return null;
        }
        try {
            return mapper.readValue(json, type);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("stored " + type.getSimpleName() + " is unreadable", e);
        }
    }

    private <T> T read(String json, TypeReference<T> type) {
        try {
            return mapper.readValue(json, type);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("stored JSON is unreadable", e);
        }
    }
}
