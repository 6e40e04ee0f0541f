package dev.mobius.client;

import java.util.Objects;

/**
 * A generated client set up for one Mobius server and key: {@code Authorization: Bearer <key>} on
 * every call and {@link Retries} installed. Create the API objects from it afterwards:
 *
 * <pre>{@code
 * ApiClient client = Mobius.client("http://127.0.0.1:8080", System.getenv("MOBIUS_API_KEY"));
 * AutomationRun run = new RunsApi(client).getAutomationRun("default", "run_...");
 * }</pre>
 */
public final class Mobius {
    private Mobius() {}

    /** With {@link Retries#defaults()}. */
    public static ApiClient client(String baseUrl, String apiKey) {
        return client(baseUrl, apiKey, Retries.defaults());
    }

    /** With the given retries, or none when {@code retries} is null. */
    public static ApiClient client(String baseUrl, String apiKey, Retries retries) {
        Objects.requireNonNull(apiKey, "apiKey");
        String base = Objects.requireNonNull(baseUrl, "baseUrl");
        while (base.endsWith("/")) {
            base = base.substring(0, base.length() - 1);
        }
        ApiClient client = new ApiClient();
        client.updateBaseUri(base);
        String authorization = "Bearer " + apiKey.trim();
        client.setRequestInterceptor(request -> request.setHeader("Authorization", authorization));
        if (retries != null) {
            retries.install(client);
        }
        return client;
    }
}
