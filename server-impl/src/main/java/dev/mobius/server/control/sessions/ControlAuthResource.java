package dev.mobius.server.control.sessions;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mobius.mogplex.api.ControlAuthApi;
import dev.mobius.server.control.ControlAuth;
import dev.mobius.server.control.ControlCaller;
import dev.mobius.server.control.ControlException;
import dev.mobius.server.http.ClientAddress;
import dev.mobius.server.users.UserRow;
import dev.mobius.server.users.UserService;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/** Who is signed in, the local login and logout, and the session's personal access tokens. */
public final class ControlAuthResource implements ControlAuthApi {
    private final ControlAuth auth;
    private final LocalSessions sessions;
    private final SessionStore store;
    private final LoginService logins;
    private final ApiKeyService keys;
    private final UserService users;
    private final AuthUserView views;

    /** The request being answered; the resource is a singleton, the request is not. */
    @jakarta.inject.Inject
    private jakarta.inject.Provider<ContainerRequestContext> requests;

    public ControlAuthResource(
            ControlAuth auth,
            LocalSessions sessions,
            SessionStore store,
            LoginService logins,
            ApiKeyService keys,
            UserService users,
            AuthUserView views) {
        this.auth = auth;
        this.sessions = sessions;
        this.store = store;
        this.logins = logins;
        this.keys = keys;
        this.users = users;
        this.views = views;
    }

    @Override
    public Response getControlAuthUser() {
        ContainerRequestContext request = requests.get();
        Optional<ControlCaller> caller = auth.identify(request);
        Optional<UserRow> user = caller.flatMap(c -> users.find(c.user().userId()));
        Map<String, Object> body = new LinkedHashMap<>();
        body.put(
                "user",
                user.map(u -> views.of(
                                u,
                                caller.get().viaSession()
                                        ? sessions.csrfToken(request).orElse(null)
                                        : null))
                        .orElse(null));
        return json(200, body);
    }

    @Override
    public Response controlLogin(JsonNode body) {
        ContainerRequestContext request = requests.get();
        if (body == null
                || !body.isObject()
                || !body.path("username").isTextual()
                || !body.path("password").isTextual()
                || body.get("username").asText().isBlank()
                || body.get("password").asText().isEmpty()) {
            throw ControlException.badRequest("username and password are required");
        }
        String login = body.get("username").asText().strip();
        String password = body.get("password").asText();
        if (login.length() > 320 || password.length() > Passwords.MAX_LENGTH) {
            throw ControlException.badRequest("username or password is too long");
        }
        LoginService.LoggedIn in = logins.login(
                login, password, ClientAddress.of(request), request.getHeaderString(HttpHeaders.USER_AGENT));
        UserRow user = users.find(in.userId()).orElseThrow(ControlException::unauthorized);
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("user", views.of(user, in.session().csrfToken()));
        out.put("csrf_token", in.session().csrfToken());
        return Response.ok(Bodies.tree(out), MediaType.APPLICATION_JSON_TYPE)
                .header(
                        HttpHeaders.SET_COOKIE,
                        cookie(request, in.session().token(), SessionStore.ABSOLUTE.toSeconds()))
                .build();
    }

    @Override
    public Response controlLogout() {
        ContainerRequestContext request = requests.get();
        // The CSRF check of the session lookup applies: a foreign page cannot sign a user out.
        Optional<ControlCaller> caller = sessions.fromRequest(request);
        caller.ifPresent(c -> store.revoke(c.sessionId()));
        return Response.ok(Bodies.tree(Map.of("ok", true)), MediaType.APPLICATION_JSON_TYPE)
                .header(HttpHeaders.SET_COOKIE, cookie(request, "", 0))
                .build();
    }

    @Override
    public Response listControlApiKeys() {
        ContainerRequestContext request = requests.get();
        ControlCaller caller = auth.requireSession(request);
        return json(200, keys.list(caller.user().userId()));
    }

    @Override
    public Response createControlApiKey(JsonNode body) {
        ContainerRequestContext request = requests.get();
        ControlCaller caller = auth.requireSession(request);
        return json(200, keys.create(caller.user().userId(), body));
    }

    @Override
    public Response revokeControlApiKey(String id) {
        ContainerRequestContext request = requests.get();
        ControlCaller caller = auth.requireSession(request);
        return json(200, keys.revoke(caller.user().userId(), id));
    }

    private static String cookie(ContainerRequestContext request, String value, long maxAgeSeconds) {
        String forwarded = request.getHeaderString("X-Forwarded-Proto");
        boolean secure = request.getSecurityContext().isSecure() || "https".equalsIgnoreCase(forwarded);
        return LocalSessions.COOKIE + "=" + value + "; Path=/; Max-Age=" + maxAgeSeconds + "; HttpOnly; SameSite=Lax"
                + (secure ? "; Secure" : "");
    }

    private static Response json(int status, Object body) {
        return Response.status(status)
                .type(MediaType.APPLICATION_JSON_TYPE)
                .entity(Bodies.tree(body))
                .build();
    }
}
