package dev.mobius.server.interactions;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.mobius.client.ApiClient;
import dev.mobius.client.ApiException;
import dev.mobius.client.api.InteractionsApi;
import dev.mobius.client.model.CreateInteractionRequest;
import dev.mobius.client.model.Interaction;
import dev.mobius.client.model.InteractionKind;
import dev.mobius.client.model.InteractionMode;
import dev.mobius.client.model.InteractionOption;
import dev.mobius.client.model.InteractionSpec;
import dev.mobius.client.model.ResolutionPolicy;
import dev.mobius.client.model.RespondToInteractionRequest;
import dev.mobius.server.TestServer;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The interactions round trip through the Java client generated from the contract. */
class InteractionClientTest {

    @Test
    void askAnswerAndReadBackWithTheGeneratedClient() throws Exception {
        try (TestServer server = TestServer.start()) {
            ApiClient client = new ApiClient();
            client.updateBaseUri(server.baseUrl());
            client.setRequestInterceptor(b -> b.header("Authorization", "Bearer " + TestServer.BOOTSTRAP_KEY));
            InteractionsApi interactions = new InteractionsApi(client);

            Interaction created = interactions.createInteraction(
                    "default",
                    new CreateInteractionRequest()
                            .kind(InteractionKind.REQUEST_INFORMATION)
                            .title("Which region?")
                            .spec(new InteractionSpec()
                                    .mode(InteractionMode.SELECT)
                                    .options(List.of(
                                            new InteractionOption().value("us").label("US"),
                                            new InteractionOption().value("eu").label("EU"))))
                            .resolutionPolicy(new ResolutionPolicy().type(ResolutionPolicy.TypeEnum.ANY_OF)),
                    "which-region-1");
            assertEquals(Interaction.StatusEnum.PENDING, created.getStatus());

            Interaction answered = interactions.respondToInteraction(
                    "default",
                    created.getId(),
                    new RespondToInteractionRequest().value("eu").comment("GDPR"));
            assertEquals(Interaction.StatusEnum.COMPLETED, answered.getStatus());
            assertEquals("eu", answered.getOutcome());
            assertEquals("GDPR", answered.getResponses().get(0).getComment());

            Interaction read = interactions.getInteraction("default", created.getId());
            assertEquals(answered.getResolvingResponseId(), read.getResolvingResponseId());
            assertEquals(
                    1,
                    interactions
                            .listInteractions("default", "completed", null, null, null, null, null, null, null)
                            .getItems()
                            .size());
            ApiException late = assertThrows(
                    ApiException.class,
                    () -> interactions.respondToInteraction(
                            "default", created.getId(), new RespondToInteractionRequest().value("us")));
            assertEquals(409, late.getCode());
            interactions.deleteInteraction("default", created.getId());
            assertEquals(
                    404,
                    assertThrows(ApiException.class, () -> interactions.getInteraction("default", created.getId()))
                            .getCode());
        }
    }
}
