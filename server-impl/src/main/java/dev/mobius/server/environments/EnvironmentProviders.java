package dev.mobius.server.environments;

import java.util.Map;
import java.util.Optional;

/**
 * The providers that provision machines for environments ({@code sprites},
 * {@code cloudflare_containers}). Worker environments need none: the customer's worker is the
 * machine. An operator configures providers; a name without one answers 409
 * {@code provider_unavailable} before anything is stored.
 */
public interface EnvironmentProviders {
    /** No provider configured: the default. */
    EnvironmentProviders NONE = name -> Optional.empty();

    /** A machine a provider made. */
    record Provisioned(String resourceId, String resourceName, String status, Map<String, Object> runtime) {}

    /** What provisions and tears down one provider's machines. */
    interface Provider {
        Provisioned provision(String environmentId, String name, String templateId, Map<String, Object> spec);

        void destroy(String resourceId);
    }

    Optional<Provider> provider(String name);
}
