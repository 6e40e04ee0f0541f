package dev.mobius.server.webhooks;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mobius.api.model.CreateWebhookRequest;
import dev.mobius.api.model.PingWebhookRequest;
import dev.mobius.api.model.PingWebhookResult;
import dev.mobius.api.model.RotateSecretResult;
import dev.mobius.api.model.UpdateWebhookRequest;
import dev.mobius.api.model.Webhook;
import dev.mobius.api.model.WebhookDeliveryListResponse;
import dev.mobius.api.model.WebhookDeliveryRecord;
import dev.mobius.api.model.WebhookDeliveryStatus;
import dev.mobius.api.model.WebhookListResponse;
import dev.mobius.server.audit.AuditTrail;
import dev.mobius.server.db.Daos;
import dev.mobius.server.db.SqlWhere;
import dev.mobius.server.http.ApiException;
import dev.mobius.server.http.Cursors;
import dev.mobius.server.http.PageRequest;
import dev.mobius.server.http.Tags;
import dev.mobius.server.http.Validator;
import dev.mobius.server.ids.Ids;
import dev.mobius.server.json.Json;
import dev.mobius.server.outbound.OutboundGuard;
import dev.mobius.server.secrets.SecretStore;
import dev.mobius.server.tenancy.Caller;
import dev.mobius.server.tenancy.ProjectAccess;
import dev.mobius.server.tenancy.ProjectRow;
import dev.mobius.server.time.Times;
import dev.mobius.server.tracing.TraceContext;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.time.OffsetDateTime;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;

/**
 * Webhooks: subscriptions, their signing secrets (shown once, stored encrypted), pings and the
 * delivery history. Deliveries themselves are queued by {@link WebhookOutbox} and sent by
 * {@link WebhookDeliverer}.
 */
public final class WebhookService {
    static final String DISABLED_TAG = Tags.RESERVED_PREFIX + "disabled_reason";
    private static final Pattern NAME = Pattern.compile("[a-z0-9_-]{1,63}");
    private static final int MAX_URL = 2048;

    private final Jdbi jdbi;
    private final Ids ids;
    private final ObjectMapper mapper;
    private final AuditTrail audit;
    private final Cursors cursors;
    private final SecretStore secrets;
    private final WebhookSender sender;
    private final OutboundGuard outbound;

    public WebhookService(
            Jdbi jdbi,
            Ids ids,
            ObjectMapper mapper,
            AuditTrail audit,
            Cursors cursors,
            SecretStore secrets,
            WebhookDeliverer deliverer,
            OutboundGuard outbound) {
        this.outbound = outbound;
        this.jdbi = jdbi;
        this.ids = ids;
        this.mapper = mapper;
        this.audit = audit;
        this.cursors = cursors;
        this.secrets = secrets;
        this.sender = deliverer.sender();
    }

    public Webhook create(Caller caller, String projectRef, CreateWebhookRequest request) {
        Validator v = new Validator();
        String name = request.getName();
        if (name == null) {
            v.add("name", "is required");
        } else if (!NAME.matcher(name).matches()) {
            v.add("name", "must be 1-63 characters of a-z, 0-9, _ and -");
        }
        String url = request.getUrl() == null ? "" : request.getUrl().trim();
        checkUrl(url, "url", v);
        List<String> events = request.getEvents();
        if (events == null) {
            v.add("events", "is required");
        } else {
            checkEvents(events, v);
        }
        Tags.validate(request.getTags(), "tags", v);
        v.throwIfInvalidSorted();
        return jdbi.inTransaction(h -> {
            ProjectRow project = ProjectAccess.require(h, caller, projectRef);
            WebhookDao dao = Daos.of(h, WebhookDao.class);
            if (dao.nameTaken(project.id(), name, "")) {
                throw nameTaken(name);
            }
            OffsetDateTime now = Times.now();
            String webhookId = ids.next("wbh");
            SecretStore.SigningKey key = secrets.mintSigningKey(
                    h, project.orgId(), project.id(), "webhook", webhookId, caller.principalId());
            WebhookRow row = new WebhookRow(
                    webhookId,
                    project.orgId(),
                    project.id(),
                    name,
                    url,
                    distinct(events).toArray(new String[0]),
                    request.getEnabled() == null || request.getEnabled(),
                    Json.write(mapper, request.getTags() == null ? Map.of() : request.getTags()),
                    key.secretId(),
                    key.version(),
                    null,
                    caller.principalId(),
                    caller.principalId(),
                    now,
                    now);
            dao.insert(row);
            audit.created(h, caller, project.id(), "webhook", row.id(), row.name(), summary(row));
            return view(row).signingSecret(key.base64());
        });
    }

    public WebhookListResponse list(
            Caller caller, String projectRef, Boolean enabled, List<String> tag, String cursor, Integer limit) {
        List<Tags.Filter> filters = Tags.parseFilters(tag);
        return jdbi.withHandle(h -> {
            ProjectRow project = ProjectAccess.require(h, caller, projectRef);
            String scope =
                    "webhooks:" + project.id() + ":" + enabled + ":" + (tag == null ? "" : String.join("\u0000", tag));
            PageRequest page = PageRequest.of(limit, cursor, scope, cursors);
            SqlWhere where = new SqlWhere()
                    .and("project_id = :p", "p", project.id())
                    .andIf(enabled, "enabled = :enabled", "enabled");
            Tags.apply(filters, "tags", where);
            where.andIf(page.afterId(), "id < :after", "after");
            PageRequest.Page<Webhook> result = page.page(
                    Daos.of(h, WebhookDao.class).list(where, page.fetchSize()),
                    WebhookRow::id,
                    this::view,
                    scope,
                    cursors);
            return new WebhookListResponse()
                    .items(result.items())
                    .hasMore(result.hasMore())
                    .nextCursor(result.nextCursor());
        });
    }

    public Webhook get(Caller caller, String projectRef, String id) {
        return jdbi.withHandle(h -> {
            ProjectRow project = ProjectAccess.require(h, caller, projectRef);
            return view(Daos.of(h, WebhookDao.class).find(project.id(), id).orElseThrow(() -> notFound(id)));
        });
    }

    public Webhook update(Caller caller, String projectRef, String id, UpdateWebhookRequest request) {
        Validator v = new Validator();
        if (request.getName() != null && !NAME.matcher(request.getName()).matches()) {
            v.add("name", "must be 1-63 characters of a-z, 0-9, _ and -");
        }
        String url = request.getUrl() == null ? null : request.getUrl().trim();
        if (url != null) {
            checkUrl(url, "url", v);
        }
        if (request.getEvents() != null) {
            checkEvents(request.getEvents(), v);
        }
        Tags.validate(request.getTags(), "tags", v);
        v.throwIfInvalidSorted();
        return jdbi.inTransaction(h -> {
            ProjectRow project = ProjectAccess.require(h, caller, projectRef);
            WebhookDao dao = Daos.of(h, WebhookDao.class);
            WebhookRow row = dao.lock(project.id(), id).orElseThrow(() -> notFound(id));
            String name = request.getName() == null ? row.name() : request.getName();
            if (!name.equals(row.name()) && dao.nameTaken(project.id(), name, row.id())) {
                throw nameTaken(name);
            }
            Map<String, String> tags = Json.readStringMap(mapper, row.tags());
            if (request.getTags() != null) {
                tags = Tags.replace(tags, request.getTags());
            }
            boolean enabled = request.getEnabled() == null ? row.enabled() : request.getEnabled();
            OffsetDateTime failingSince = row.failingSince();
            String newUrl = url == null ? row.url() : url;
            if (Boolean.TRUE.equals(request.getEnabled())) {
                tags = new LinkedHashMap<>(tags);
                tags.remove(DISABLED_TAG);
            }
            if (Boolean.TRUE.equals(request.getEnabled()) || !newUrl.equals(row.url())) {
                // Turned (back) on, or pointed at another receiver: its failures so far say nothing of what comes.
                failingSince = null;
            }
            WebhookRow after = new WebhookRow(
                    row.id(),
                    row.orgId(),
                    row.projectId(),
                    name,
                    newUrl,
                    request.getEvents() == null
                            ? row.events()
                            : distinct(request.getEvents()).toArray(new String[0]),
                    enabled,
                    Json.write(mapper, tags),
                    row.secretId(),
                    row.secretVersion(),
                    failingSince,
                    row.createdBy(),
                    caller.principalId(),
                    row.createdAt(),
                    Times.now());
            dao.update(after);
            if ((row.enabled() && !enabled) || (!row.url().isEmpty() && newUrl.isEmpty())) {
                dao.failPending(row.id(), enabled ? "webhook has no url" : "webhook disabled");
            }
            audit.updated(h, caller, project.id(), "webhook", row.id(), after.name(), summary(row), summary(after));
            return view(after);
        });
    }

    public void delete(Caller caller, String projectRef, String id) {
        jdbi.useTransaction(h -> {
            ProjectRow project = ProjectAccess.require(h, caller, projectRef);
            WebhookDao dao = Daos.of(h, WebhookDao.class);
            WebhookRow row = dao.lock(project.id(), id).orElseThrow(() -> notFound(id));
            dao.delete(row.id()); // the delivery history goes with it (ON DELETE CASCADE)
            audit.deleted(h, caller, project.id(), "webhook", row.id(), row.name(), summary(row));
        });
    }

    public RotateSecretResult rotate(Caller caller, String projectRef, String id) {
        return jdbi.inTransaction(h -> {
            ProjectRow project = ProjectAccess.require(h, caller, projectRef);
            WebhookDao dao = Daos.of(h, WebhookDao.class);
            WebhookRow row = dao.lock(project.id(), id).orElseThrow(() -> notFound(id));
            SecretStore.SigningKey key = secrets.rotateSigningKey(h, row.secretId(), caller.principalId());
            int version = key.version();
            dao.update(new WebhookRow(
                    row.id(),
                    row.orgId(),
                    row.projectId(),
                    row.name(),
                    row.url(),
                    row.events(),
                    row.enabled(),
                    row.tags(),
                    row.secretId(),
                    version,
                    row.failingSince(),
                    row.createdBy(),
                    caller.principalId(),
                    row.createdAt(),
                    Times.now()));
            audit.updated(
                    h,
                    caller,
                    project.id(),
                    "webhook",
                    row.id(),
                    row.name(),
                    Map.of("secret_version", row.secretVersion()),
                    Map.of("secret_version", version));
            return new RotateSecretResult()
                    .secretRef(secretRef(row.id()))
                    .secretVersion((long) version)
                    .signingSecret(key.base64());
        });
    }

    /** Sends the ping outside any transaction: a slow receiver must not hold a database connection. */
    public PingWebhookResult ping(Caller caller, String projectRef, String id, PingWebhookRequest request) {
        String override = request == null || request.getUrl() == null
                ? ""
                : request.getUrl().trim();
        if (!override.isEmpty()) {
            Validator v = new Validator();
            checkUrl(override, "url", v);
            v.throwIfInvalid();
        }
        record Signing(WebhookRow row, byte[] key) {}
        Signing found = jdbi.withHandle(h -> {
            ProjectRow project = ProjectAccess.require(h, caller, projectRef);
            WebhookRow w = Daos.of(h, WebhookDao.class).find(project.id(), id).orElseThrow(() -> notFound(id));
            return new Signing(w, signingKey(h, w));
        });
        WebhookRow row = found.row();
        String url = override.isEmpty() ? row.url() : override;
        if (url.isEmpty()) {
            throw ApiException.badRequest(
                    "webhook_url_missing", "webhook \"" + id + "\" has no url; pass one in the body");
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("type", "ping");
        body.put("data", Map.of("webhook_id", row.id(), "timestamp", Times.now().toString()));
        WebhookSender.Outcome outcome = sender.send(
                url,
                new WebhookSender.Message(
                        ids.next("whdel"),
                        "ping",
                        Json.write(mapper, body).getBytes(StandardCharsets.UTF_8),
                        found.key(),
                        secretRef(row.id()),
                        row.secretVersion()),
                TraceContext.current()); // a ping is part of the request that asked for it
        return new PingWebhookResult()
                .success(outcome.delivered())
                .statusCode(outcome.status())
                .error(outcome.error())
                .latencyMs((int) Math.min(Integer.MAX_VALUE, outcome.latencyMillis()));
    }

    public WebhookDeliveryListResponse deliveries(
            Caller caller, String projectRef, String id, String cursor, Integer limit) {
        return jdbi.withHandle(h -> {
            ProjectRow project = ProjectAccess.require(h, caller, projectRef);
            WebhookDao dao = Daos.of(h, WebhookDao.class);
            WebhookRow row = dao.find(project.id(), id).orElseThrow(() -> notFound(id));
            String scope = "webhook-deliveries:" + row.id();
            PageRequest page = PageRequest.of(limit, cursor, scope, cursors);
            SqlWhere where =
                    new SqlWhere().and("webhook_id = :w", "w", row.id()).andIf(page.afterId(), "id < :after", "after");
            PageRequest.Page<WebhookDeliveryRecord> result = page.page(
                    dao.deliveries(where, page.fetchSize()),
                    DeliveryRow::id,
                    WebhookService::deliveryView,
                    scope,
                    cursors);
            return new WebhookDeliveryListResponse()
                    .items(result.items())
                    .hasMore(result.hasMore())
                    .nextCursor(result.nextCursor());
        });
    }

    // ---- helpers ------------------------------------------------------------------------------

    static String secretRef(String webhookId) {
        return SecretStore.ownedName("webhook", webhookId);
    }

    /** The webhook's current signing key, decrypted. */
    byte[] signingKey(Handle h, WebhookRow w) {
        return secrets.signingKey(h, w.secretId(), w.secretVersion())
                .orElseThrow(() -> new IllegalStateException("webhook " + w.id() + " has no signing key"));
    }

    private Webhook view(WebhookRow r) {
        return new Webhook()
                .id(r.id())
                .name(r.name())
                .url(r.url())
                .events(List.of(r.events()))
                .enabled(r.enabled())
                .createdBy(r.createdBy())
                .updatedBy(r.updatedBy())
                .tags(Json.readStringMap(mapper, r.tags()))
                .secretRef(secretRef(r.id()))
                .secretVersion((long) r.secretVersion())
                .createdAt(r.createdAt())
                .updatedAt(r.updatedAt());
    }

    private static WebhookDeliveryRecord deliveryView(DeliveryRow d) {
        return new WebhookDeliveryRecord()
                .id(d.id())
                .webhookId(d.webhookId())
                .runId(d.runId())
                .eventType(d.eventType())
                .status(WebhookDeliveryStatus.fromValue(d.status()))
                .attempts(d.attempts())
                .lastError(d.lastError())
                .createdAt(d.createdAt())
                .deliveredAt(d.deliveredAt());
    }

    private Map<String, Object> summary(WebhookRow r) {
        return AuditTrail.summary(
                "name",
                r.name(),
                "url",
                r.url(),
                "events",
                List.of(r.events()),
                "enabled",
                r.enabled(),
                "tags",
                Json.readStringMap(mapper, r.tags()));
    }

    private void checkUrl(String url, String field, Validator v) {
        if (url.isEmpty()) {
            return;
        }
        URI uri = null;
        if (url.length() <= MAX_URL) {
            try {
                uri = new URI(url);
                String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
                if (!(scheme.equals("http") || scheme.equals("https"))
                        || uri.getHost() == null
                        || uri.getHost().isEmpty()) {
                    uri = null;
                }
            } catch (URISyntaxException e) {
                uri = null;
            }
        }
        if (uri == null) {
            v.add(field, "must be an absolute http or https URL");
            return;
        }
        // Refused now rather than on the first delivery; every delivery is checked again, since DNS can change.
        outbound.checkAtCreate(uri).ifPresent(reason -> v.add(field, reason));
    }

    private static void checkEvents(List<String> events, Validator v) {
        for (int i = 0; i < events.size(); i++) {
            String e = events.get(i);
            if (e == null || !(WebhookOutbox.EVENT_TYPES.contains(e) || WebhookOutbox.WILDCARDS.contains(e))) {
                v.add("events[" + i + "]", "unknown event type");
            }
        }
    }

    private static List<String> distinct(List<String> events) {
        return List.copyOf(new LinkedHashSet<>(events));
    }

    private static ApiException notFound(String id) {
        return ApiException.notFound("webhook \"" + id + "\" not found");
    }

    private static ApiException nameTaken(String name) {
        return ApiException.conflict(
                "webhook_name_taken", "a webhook named \"" + name + "\" already exists", Map.of("name", name));
    }
}
