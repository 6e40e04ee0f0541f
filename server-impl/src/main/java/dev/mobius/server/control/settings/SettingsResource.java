package dev.mobius.server.control.settings;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mobius.mogplex.api.ControlSettingsApi;
import dev.mobius.server.control.ControlAuth;
import dev.mobius.server.control.ControlCaller;
import dev.mobius.server.control.ControlException;
import jakarta.inject.Provider;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.Optional;

/** HTTP face of {@link SettingsService}: {@code /api/settings} and {@code /api/models}. */
public final class SettingsResource implements ControlSettingsApi {
    /** The theme cookie the web reads before it renders: one year, the whole site. */
    static final String THEME_COOKIE = "mogplex-theme=%s; Path=/; Max-Age=31536000; SameSite=Lax";

    private final ControlAuth auth;
    private final SettingsService settings;
    private final ObjectMapper mapper;

    // Resources are singletons: the request of the moment comes through a provider.
    @Context
    private Provider<ContainerRequestContext> request;

    public SettingsResource(ControlAuth auth, SettingsService settings, ObjectMapper mapper) {
        this.auth = auth;
        this.settings = settings;
        this.mapper = mapper;
    }

    @Override
    public Response getControlSettings() {
        return withTheme(settings.settings(auth.require(request.get(), "read").user()));
    }

    @Override
    public Response updateControlSettings(Object body) {
        ControlCaller caller = auth.require(request.get(), "write");
        return withTheme(settings.change(caller.user(), tree(body)));
    }

    @Override
    public Response listControlModels(String format) {
        boolean cli = "cli".equals(format);
        Optional<ControlCaller> caller = auth.identify(request.get());
        if (caller.isEmpty()) {
            // A bearer that names no live token is refused rather than answered anonymously.
            String authorization = request.get().getHeaderString(HttpHeaders.AUTHORIZATION);
            if (authorization != null && !authorization.isBlank()) {
                throw ControlException.unauthorized();
            }
            return json(settings.anonymousModels(cli));
        }
        if (!caller.get().may("read")) {
            throw ControlException.forbidden("This token does not have the 'read' scope.");
        }
        return json(settings.models(caller.get().user(), cli));
    }

    @Override
    public Response setControlModelPreference(Object body) {
        ControlCaller caller = auth.require(request.get(), "write");
        return json(settings.prefer(caller.user(), tree(body)));
    }

    private JsonNode tree(Object body) {
        return body == null ? null : mapper.valueToTree(body);
    }

    private static Response json(Object body) {
        return Response.ok(body, MediaType.APPLICATION_JSON_TYPE).build();
    }

    private static Response withTheme(SettingsService.Answer answer) {
        Response.ResponseBuilder response = Response.ok(answer.body(), MediaType.APPLICATION_JSON_TYPE);
        if (answer.theme() != null) {
            response.header(HttpHeaders.SET_COOKIE, String.format(THEME_COOKIE, answer.theme()));
        }
        return response.build();
    }
}
