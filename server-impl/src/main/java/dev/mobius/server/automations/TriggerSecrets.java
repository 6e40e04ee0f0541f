package dev.mobius.server.automations;

import dev.mobius.api.model.TriggerSigningSecret;
import dev.mobius.server.audit.AuditTrail;
import dev.mobius.server.db.Daos;
import dev.mobius.server.http.ApiException;
import dev.mobius.server.secrets.SecretStore;
import dev.mobius.server.signing.SignatureV1;
import dev.mobius.server.tenancy.Caller;
import dev.mobius.server.tenancy.ProjectAccess;
import dev.mobius.server.tenancy.ProjectRow;
import jakarta.annotation.Priority;
import jakarta.ws.rs.Priorities;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ContainerRequestFilter;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.Optional;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.sqlobject.customizer.Bind;
import org.jdbi.v3.sqlobject.statement.SqlQuery;
import org.jdbi.v3.sqlobject.statement.SqlUpdate;

/**
 * Signing secrets of HTTP triggers: minting them (shown once, stored encrypted) and checking the
 * signature of every delivery to a trigger that has one. The check runs as a request filter
 * because it needs the exact body bytes, before anything parses them.
 */
@Priority(Priorities.AUTHENTICATION + 20)
public final class TriggerSecrets implements ContainerRequestFilter {
    private static final String INGEST_PATH = "v1/triggers/http/";

    /** The key a delivery must be signed with: its id in the secret store and latest version; none without an id. */
    public record Key(String secretId, int version) {}

    public interface Dao {
        @SqlQuery("SELECT secret_id, COALESCE((SELECT s.latest_version FROM secrets s WHERE s.id = t.secret_id), 0) "
                + "AS version FROM automation_triggers t WHERE http_handle = :handle AND kind = 'http'")
        Optional<Key> byHandle(@Bind("handle") String handle);

        @SqlUpdate("UPDATE automation_triggers SET secret_id = :secretId, updated_at = now() WHERE id = :id")
        void keyed(@Bind("id") String triggerId, @Bind("secretId") String secretId);
    }

    private final Jdbi jdbi;
    private final SecretStore secrets;
    private final AuditTrail audit;

    public TriggerSecrets(Jdbi jdbi, SecretStore secrets, AuditTrail audit) {
        this.jdbi = jdbi;
        this.secrets = secrets;
        this.audit = audit;
    }

    public TriggerSigningSecret rotate(Caller caller, String projectRef, String handle, String triggerId) {
        return jdbi.inTransaction(h -> {
            ProjectRow project = ProjectAccess.require(h, caller, projectRef);
            AutomationDao automations = Daos.of(h, AutomationDao.class);
            AutomationRow automation = automations
                    .find(project.id(), handle)
                    .orElseThrow(() -> ApiException.notFound("automation \"" + handle + "\" not found"));
            TriggerRow trigger = automations.triggers(automation.id()).stream()
                    .filter(t -> t.id().equals(triggerId))
                    .findFirst()
                    .orElseThrow(() -> ApiException.notFound("trigger \"" + triggerId + "\" not found"));
            if (!trigger.kind().equals("http")) {
                throw ApiException.badRequest(
                        "not_an_http_trigger", "trigger \"" + triggerId + "\" is not an http trigger");
            }
            // The first rotation gives the trigger its key; later ones add versions to it.
            SecretStore.SigningKey key = trigger.secretId() == null
                    ? secrets.mintSigningKey(
                            h, project.orgId(), project.id(), "trigger", trigger.id(), caller.principalId())
                    : secrets.rotateSigningKey(h, trigger.secretId(), caller.principalId());
            Daos.of(h, Dao.class).keyed(trigger.id(), key.secretId());
            int version = key.version();
            audit.updated(
                    h,
                    caller,
                    project.id(),
                    "automation_trigger",
                    trigger.id(),
                    trigger.name(),
                    Map.of("secret_version", trigger.secretVersion()),
                    Map.of("secret_version", version));
            return new TriggerSigningSecret()
                    .triggerId(trigger.id())
                    .secretRef(key.ref())
                    .secretVersion(version)
                    .signingSecret(key.base64());
        });
    }

    /** The trigger handle a request delivers to, when it is a delivery to the public ingest route; else null. */
    public static String ingestHandle(ContainerRequestContext request) {
        String path = request.getUriInfo().getPath();
        return path.startsWith(INGEST_PATH) && "POST".equals(request.getMethod())
                ? path.substring(INGEST_PATH.length())
                : null;
    }

    @Override
    public void filter(ContainerRequestContext request) {
        String handle = ingestHandle(request);
        if (handle == null) {
            return;
        }
        Optional<Key> key = jdbi.withHandle(h -> Daos.of(h, Dao.class).byHandle(handle));
        if (key.isEmpty() || key.get().secretId() == null) {
            return; // unknown handles are answered by the resource; unsigned triggers take anything
        }
        byte[] body;
        try {
            body = request.hasEntity() ? request.getEntityStream().readAllBytes() : new byte[0];
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        request.setEntityStream(new ByteArrayInputStream(body));
        String problem = check(request, key.get(), body);
        if (problem != null) {
            throw new ApiException(401, "invalid_signature", problem, null);
        }
    }

    private String check(ContainerRequestContext request, Key key, byte[] body) {
        String version = request.getHeaderString("X-Mobius-Signature-Version");
        if (version != null && !version.trim().equals(SignatureV1.VERSION)) {
            return "the X-Mobius-Signature-Version must be v1";
        }
        String secretVersion = request.getHeaderString("X-Mobius-Secret-Version");
        if (secretVersion != null && !secretVersion.trim().equals(String.valueOf(key.version()))) {
            return "the delivery is signed with secret version " + secretVersion.trim() + "; the current version is "
                    + key.version();
        }
        byte[] signingKey = jdbi.withHandle(h -> secrets.signingKey(h, key.secretId(), key.version()))
                .orElseThrow(() -> new IllegalStateException("trigger key " + key.secretId() + " is missing"));
        return SignatureV1.problem(
                signingKey,
                request.getHeaderString("X-Mobius-Signature"),
                request.getHeaderString("X-Mobius-Delivery-Id"),
                request.getHeaderString("X-Mobius-Timestamp"),
                body,
                System.currentTimeMillis() / 1000);
    }
}
