package dev.mobius.server.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mobius.server.db.Daos;
import dev.mobius.server.db.DatabaseFailures;
import dev.mobius.server.json.Json;
import dev.mobius.server.signing.SecretBox;
import jakarta.annotation.Priority;
import jakarta.ws.rs.Priorities;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ContainerRequestFilter;
import jakarta.ws.rs.container.ContainerResponseContext;
import jakarta.ws.rs.container.ContainerResponseFilter;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.sqlobject.customizer.Bind;
import org.jdbi.v3.sqlobject.statement.SqlQuery;
import org.jdbi.v3.sqlobject.statement.SqlUpdate;

/**
 * {@code Idempotency-Key} for the operations the contract marks {@code x-idempotent}. The first
 * request with a key claims it; its response (anything below 500) is stored and replayed to
 * later requests with the same key, principal and request, marked {@code Idempotent-Replayed}.
 * Claims are rows in PostgreSQL, so retries that land on another node behave the same. Stored
 * bodies are encrypted with the installation's {@link SecretBox}.
 */
@Priority(Priorities.USER)
public final class Idempotency implements ContainerRequestFilter, ContainerResponseFilter {
    public static final String HEADER = "Idempotency-Key";
    public static final String REPLAYED = "Idempotent-Replayed";
    private static final String CLAIM = "mobius.idempotencyClaim";
    /** A claim this old whose request never finished (the node died) may be taken over. */
    private static final int ABANDONED_AFTER_SECONDS = 60;

    public interface Dao {
        record Stored(
                byte[] requestSha256,
                String state,
                Integer responseStatus,
                String responseHeaders,
                byte[] responseBody) {}

        @SqlUpdate("DELETE FROM idempotency_keys WHERE principal_id = :principal AND key = :key AND expires_at < now()")
        void deleteExpired(@Bind("principal") String principal, @Bind("key") String key);

        @SqlUpdate("INSERT INTO idempotency_keys (principal_id, key, request_sha256, state, expires_at) "
                + "VALUES (:principal, :key, :hash, 'in_progress', now() + interval '24 hours') ON CONFLICT DO NOTHING")
        int claim(@Bind("principal") String principal, @Bind("key") String key, @Bind("hash") byte[] hash);

        @SqlQuery(
                "SELECT request_sha256, state, response_status, response_headers::text AS response_headers, response_body "
                        + "FROM idempotency_keys WHERE principal_id = :principal AND key = :key FOR UPDATE")
        Optional<Stored> find(@Bind("principal") String principal, @Bind("key") String key);

        @SqlUpdate("UPDATE idempotency_keys SET created_at = now() WHERE principal_id = :principal AND key = :key "
                + "AND state = 'in_progress' AND created_at < now() - make_interval(secs => :seconds)")
        int takeOverAbandoned(
                @Bind("principal") String principal, @Bind("key") String key, @Bind("seconds") int seconds);

        @SqlUpdate(
                "UPDATE idempotency_keys SET state = 'completed', response_status = :status, "
                        + "response_headers = CAST(:headers AS jsonb), response_body = :body WHERE principal_id = :principal AND key = :key")
        void complete(
                @Bind("principal") String principal,
                @Bind("key") String key,
                @Bind("status") int status,
                @Bind("headers") String headers,
                @Bind("body") byte[] body);

        @SqlUpdate("DELETE FROM idempotency_keys WHERE principal_id = :principal AND key = :key")
        void release(@Bind("principal") String principal, @Bind("key") String key);

        @SqlUpdate("DELETE FROM idempotency_keys WHERE expires_at < now()")
        int purgeExpired();
    }

    private record Claim(String principal, String key) {}

    private final Jdbi jdbi;
    private final OperationCatalog catalog;
    private final ObjectMapper mapper;
    /** Stored responses can hold a secret shown once (a new API key, a signing secret): sealed at rest. */
    private final SecretBox box;

    public Idempotency(Jdbi jdbi, OperationCatalog catalog, ObjectMapper mapper, SecretBox box) {
        this.box = box;
        this.jdbi = jdbi;
        this.catalog = catalog;
        this.mapper = mapper;
    }

    @Override
    public void filter(ContainerRequestContext request) throws IOException {
        String key = request.getHeaderString(HEADER);
        OperationCatalog.OperationInfo op = catalog.of(request);
        if (key == null || op == null || !op.idempotent()) {
            return;
        }
        if (key.isEmpty() || key.length() > 255 || !key.chars().allMatch(c -> c >= 0x20 && c < 0x7f)) {
            throw ApiException.invalidParameter(
                    List.of(new ApiException.FieldError(HEADER, "must be 1 to 255 printable ASCII characters")));
        }
        // The authenticator ran first; its principal's name is the principal id keys are scoped to.
        java.security.Principal caller = request.getSecurityContext().getUserPrincipal();
        if (caller == null) {
            return; // idempotent operations are all authenticated; nothing to scope a key to
        }
        String principal = caller.getName();
        byte[] body = request.hasEntity() ? request.getEntityStream().readAllBytes() : new byte[0];
        request.setEntityStream(new ByteArrayInputStream(body));
        byte[] hash = requestHash(
                request.getMethod(),
                request.getUriInfo().getRequestUri().getRawPath(),
                request.getUriInfo().getRequestUri().getRawQuery(),
                body);

        Response replay = jdbi.inTransaction(h -> {
            Dao dao = Daos.of(h, Dao.class);
            dao.deleteExpired(principal, key);
            if (dao.claim(principal, key, hash) == 1) {
                return null;
            }
            Dao.Stored stored = dao.find(principal, key)
                    .orElseThrow(() -> new ApiException(
                            409,
                            "idempotency_in_progress",
                            "a request with this Idempotency-Key is still being processed",
                            null));
            if (!MessageDigest.isEqual(stored.requestSha256(), hash)) {
                throw ApiException.conflict(
                        "idempotency_conflict", "Idempotency-Key was already used with a different request", null);
            }
            if ("in_progress".equals(stored.state())) {
                if (dao.takeOverAbandoned(principal, key, ABANDONED_AFTER_SECONDS) == 1) {
                    return null;
                }
                throw ApiException.conflict(
                        "idempotency_in_progress",
                        "a request with this Idempotency-Key is still being processed",
                        null);
            }
            Response.ResponseBuilder r = Response.status(stored.responseStatus())
                    .entity(stored.responseBody() == null ? null : box.open(stored.responseBody()))
                    .type(MediaType.APPLICATION_JSON_TYPE)
                    .header(REPLAYED, "true");
            Json.readStringMap(mapper, stored.responseHeaders()).forEach(r::header);
            return r.build();
        });
        if (replay == null) {
            request.setProperty(CLAIM, new Claim(principal, key));
        } else {
            request.abortWith(replay);
        }
    }

    @Override
    public void filter(ContainerRequestContext request, ContainerResponseContext response) {
        if (!(request.getProperty(CLAIM) instanceof Claim claim)) {
            return;
        }
        if (response.getStatus() >= 500) {
            // Nothing was committed for a failed request: let the retry run it again.
            try {
                jdbi.useHandle(h -> Daos.of(h, Dao.class).release(claim.principal(), claim.key()));
            } catch (RuntimeException e) {
                if (!DatabaseFailures.isUnavailable(e)) {
                    throw e;
                }
                // The database went away with the request: the claim is taken over once abandoned.
            }
            return;
        }
        byte[] body = response.hasEntity()
                ? box.seal(Json.write(mapper, response.getEntity()).getBytes(StandardCharsets.UTF_8))
                : null;
        Map<String, String> headers = new LinkedHashMap<>();
        String location = response.getHeaderString(HttpHeaders.LOCATION);
        if (location != null) {
            headers.put(HttpHeaders.LOCATION, location);
        }
        try {
            jdbi.useHandle(h -> Daos.of(h, Dao.class)
                    .complete(claim.principal(), claim.key(), response.getStatus(), Json.write(mapper, headers), body));
        } catch (RuntimeException e) {
            if (!DatabaseFailures.isUnavailable(e)) {
                throw e;
            }
            // The request itself committed: its answer stands even though it cannot be stored for replays.
        }
    }

    private static byte[] requestHash(String method, String path, String query, byte[] body) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update(
                    (method + " " + path + "?" + (query == null ? "" : query) + "\n").getBytes(StandardCharsets.UTF_8));
            sha.update(body);
            return sha.digest();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
