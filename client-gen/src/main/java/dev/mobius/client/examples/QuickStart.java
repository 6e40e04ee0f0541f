package dev.mobius.client.examples;

import dev.mobius.client.ApiClient;
import dev.mobius.client.Mobius;
import dev.mobius.client.Pages;
import dev.mobius.client.RunEvents;
import dev.mobius.client.WebhookVerifier;
import dev.mobius.client.api.RunsApi;
import dev.mobius.client.model.AutomationRun;
import dev.mobius.client.model.AutomationRunEvent;
import dev.mobius.client.model.AutomationRunListResponse;
import dev.mobius.client.model.StartAutomationRunRequest;
import java.nio.charset.StandardCharsets;
import java.time.Instant;

/** Usage: QuickStart <base-url> <api-key> <project> <automation-handle> */
public final class QuickStart {
    public static void main(String[] args) throws Exception {
        String project = args[2], automation = args[3];
        ApiClient client = Mobius.client(args[0], args[1]); // Bearer key; 429/503 retried after Retry-After
        RunsApi runs = new RunsApi(client);

        // Start a run, then follow its events until it ends (a dropped stream resumes with Last-Event-ID).
        AutomationRun run = runs.startAutomationRun(project, automation, null, new StartAutomationRunRequest());
        AutomationRunEvent end = RunEvents.of(client)
                .follow(project, run.getId(), e -> System.out.println(e.getSequence() + " " + e.getEventType()));
        System.out.println("run " + run.getId() + " " + end.getPayload().get("status"));

        // Every run of the project, fetched page by page as the stream is consumed.
        long count = Pages.stream(
                        cursor -> runs.listAutomationRuns(project, null, null, null, cursor, 20),
                        AutomationRunListResponse::getItems)
                .count();
        System.out.println(count + " runs in " + project);

        // A webhook receiver checks each delivery with the secret createWebhook returned. Here the delivery is
        // made up; a receiver passes the raw body and the headers of the request it got.
        String secret = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
        byte[] body = "{\"type\":\"ping\",\"data\":{}}".getBytes(StandardCharsets.UTF_8);
        long now = Instant.now().getEpochSecond();
        var headers = WebhookVerifier.signedHeaders("mobius/webhook/wbh_1", 1, secret, "whdel_1", now, body);
        WebhookVerifier.Delivery delivery = WebhookVerifier.of(secret, 1).verify(headers, body);
        System.out.println("webhook " + delivery.deliveryId() + " verified");
    }
}
