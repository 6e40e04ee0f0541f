package dev.mobius.server.webhooks;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mobius.server.audit.AuditTrail;
import dev.mobius.server.background.PollingLoop;
import dev.mobius.server.db.Daos;
import dev.mobius.server.db.FailureLog;
import dev.mobius.server.events.SourceEvents;
import dev.mobius.server.ids.Ids;
import dev.mobius.server.json.Json;
import dev.mobius.server.outbound.OutboundGuard;
import dev.mobius.server.secrets.SecretDao;
import dev.mobius.server.secrets.SecretRow;
import dev.mobius.server.secrets.SecretStore;
import dev.mobius.server.tenancy.Caller;
import dev.mobius.server.threads.Threads;
import dev.mobius.server.tracing.Tracing;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends queued deliveries. One claimer thread per node takes due rows with {@code FOR UPDATE SKIP
 * LOCKED} (so nodes never take the same attempt), marks them {@code processing} with a lease, and
 * hands them to a bounded pool of senders; each outcome is recorded in its own short transaction.
 * An attempt whose node dies keeps its row {@code processing}: once the lease has run out the row
 * is due again and is re-sent with the same delivery id (at least once; receivers de-duplicate).
 *
 * <p>Wake-ups: a local nudge after the commit that queued deliveries, and a poll every
 * {@value #POLL_MILLIS} ms for rows queued by other nodes and for retries coming due.
 *
 * <p>Retry schedule after attempt n (n = 1..9): 5 s, 30 s, 2 min, 10 min, 30 min, 1 h, 3 h, 6 h,
 * 12 h, each with ±20 % jitter (about 23 h in all); a longer {@code Retry-After} wins, up to 24 h.
 * A delivery that uses up its attempts fails alone. The webhook is disabled only when every attempt
 * to it has failed for {@link WebhookSettings#disableAfter()}, counted from {@code failing_since}.
 *
 * <p>Interaction callbacks are rows of the same table and go the same way (claim, lease, schedule,
 * delivery id), with two differences: no per-webhook bound or streak of failures applies, and the
 * key is the {@code signing_key_b64} of the project secret the callback names, read at each attempt
 * (the latest version when none is pinned). A callback whose secret, version or key is gone fails
 * at that attempt without being sent: nothing leaves unsigned.
 */
public final class WebhookDeliverer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(WebhookDeliverer.class);
    private static final int MAX_ATTEMPTS = WebhookSettings.MAX_ATTEMPTS;
    private static final List<Duration> SCHEDULE = WebhookSettings.SCHEDULE;
    private static final Duration MAX_DELAY = Duration.ofHours(24);
    private static final long POLL_MILLIS = 250;
    private static final int BATCH = 100;

    /** A claimed attempt with what signing it needs. */
    private record Attempt(DeliveryRow delivery, String url, byte[] key, String secretRef, int secretVersion) {}

    /** The key that signs an attempt of a callback, or why there is none. */
    private record CallbackKey(byte[] key, int version, String problem) {}

    private record Result(DeliveryRow delivery, WebhookSender.Outcome outcome) {}

    /** Told of every attempt's outcome (for metrics): delivered, retry or failed, and how long it took. */
    public interface Observer {
        Observer NONE = (outcome, millis) -> {};

        void attempted(String outcome, long millis);
    }

    private final Jdbi jdbi;
    private final Ids ids;
    private final SecretStore secrets;
    private final AuditTrail audit;
    private final WebhookSettings settings;
    private final WebhookSender sender;
    private final ObjectMapper mapper;
    private final Semaphore permits;
    private final ExecutorService senders;
    private final PollingLoop claimer;
    private final FailureLog recorderFailures = new FailureLog(log, "webhook recorder");
    /** Outcomes waiting to be written; one recorder writes them in batches, one commit (one fsync) each. */
    private final java.util.concurrent.BlockingQueue<Result> outcomes =
            new java.util.concurrent.LinkedBlockingQueue<>();

    private final Thread recorder;
    private final dev.mobius.server.threads.Heartbeat recorderHeartbeat = new dev.mobius.server.threads.Heartbeat();
    private final AtomicInteger sent = new AtomicInteger();
    private volatile boolean starved;
    private volatile boolean sendersDone;
    private volatile Observer observer = Observer.NONE;

    public WebhookDeliverer(
            Jdbi jdbi,
            Ids ids,
            SecretStore secrets,
            AuditTrail audit,
            ObjectMapper mapper,
            OutboundGuard guard,
            WebhookSettings settings,
            Tracing tracing) {
        this.jdbi = jdbi;
        this.ids = ids;
        this.secrets = secrets;
        this.audit = audit;
        this.mapper = mapper;
        this.settings = settings;
        this.sender = new WebhookSender(guard, settings, tracing);
        this.permits = new Semaphore(settings.maxInFlight());
        this.senders = Executors.newFixedThreadPool(settings.maxInFlight(), Threads.numberedDaemons("webhook-sender"));
        this.claimer = new PollingLoop("webhook-claimer", POLL_MILLIS, this::claimRound);
        this.recorder = Threads.daemon(this::recordLoop, "webhook-recorder");
    }

    /** Set once by the wiring before {@link #start()}. */
    public void observe(Observer observer) {
        this.observer = observer;
    }

    WebhookSender sender() {
        return sender;
    }

    /** The claimer's and the recorder's heartbeats. */
    public List<dev.mobius.server.threads.Heartbeat> heartbeats() {
        return List.of(claimer.heartbeat(), recorderHeartbeat);
    }

    public void start() {
        claimer.start();
        recorder.start();
    }

    /** Something may be due now (called after a commit that queued deliveries). */
    public void nudge() {
        claimer.nudge();
    }

    /** @return whether to claim again at once: a full batch was claimed, so more may be due */
    private boolean claimRound() {
        int want = Math.min(BATCH, permits.availablePermits());
        int claimed = 0;
        if (want > 0 && permits.tryAcquire(want)) {
            List<Attempt> attempts = List.of();
            try {
                attempts = claim(want);
            } finally {
                permits.release(want - attempts.size()); // what this batch does not use goes straight back
            }
            claimed = attempts.size();
            for (Attempt a : attempts) {
                senders.execute(() -> {
                    try {
                        deliver(a);
                    } finally {
                        permits.release();
                        if (starved) {
                            nudge();
                        }
                    }
                });
            }
        }
        starved = want == 0 || claimed == want;
        return want > 0 && claimed == want;
    }

    private List<Attempt> claim(int limit) {
        return jdbi.inTransaction(h -> {
            WebhookDao dao = Daos.of(h, WebhookDao.class);
            List<WebhookDao.Due> due = dao.claimDue(settings.perWebhookConcurrency(), limit);
            if (due.isEmpty()) {
                return List.of();
            }
            String[] hookIds = new LinkedHashSet<>(due.stream()
                            .map(WebhookDao.Due::webhookId)
                            .filter(java.util.Objects::nonNull)
                            .toList())
                    .toArray(new String[0]);
            // Locking the webhooks serializes claims per webhook across nodes: the in-flight count stays exact.
            Map<String, WebhookRow> hooks = new HashMap<>();
            dao.lockSkipping(hookIds).forEach(w -> hooks.put(w.id(), w));
            Map<String, Integer> inFlight = new HashMap<>();
            dao.inFlight(hookIds).forEach(f -> inFlight.put(f.webhookId(), f.attempts()));
            List<String> taken = new ArrayList<>();
            Map<String, List<String>> dropped = new LinkedHashMap<>();
            for (WebhookDao.Due c : due) {
                if (c.webhookId() == null) {
                    taken.add(c.id()); // an interaction's callback: no webhook to hold or bound
                    continue;
                }
                WebhookRow w = hooks.get(c.webhookId());
                if (w == null) {
                    continue; // another node holds the webhook right now; next round
                }
                if (!w.enabled() || w.url().isEmpty()) {
                    dropped.computeIfAbsent(
                                    w.enabled() ? "webhook has no url" : "webhook disabled", k -> new ArrayList<>())
                            .add(c.id());
                    continue;
                }
                int n = inFlight.getOrDefault(w.id(), 0);
                if (n < settings.perWebhookConcurrency()) {
                    inFlight.put(w.id(), n + 1);
                    taken.add(c.id());
                }
            }
            dropped.forEach((reason, ids) -> dao.fail(ids.toArray(new String[0]), reason));
            if (taken.isEmpty()) {
                return List.of();
            }
            List<DeliveryRow> rows = dao.startAttempts(
                    taken.toArray(new String[0]), settings.lease().toMillis() / 1000.0, MAX_ATTEMPTS);
            List<Attempt> out = new ArrayList<>(rows.size());
            Map<String, byte[]> keys = new HashMap<>();
            for (DeliveryRow d : rows) {
                if (d.callback()) {
                    CallbackKey key = callbackKey(h, d);
                    if (key.problem() != null) {
                        // Never sent unsigned: the callback ends here, as a failed attempt that says why.
                        dao.attemptFailed(d.id(), d.attempts(), true, 0.0, key.problem());
                        log.warn(
                                "interaction callback {} of {} not sent: {}", d.id(), d.interactionId(), key.problem());
                        continue;
                    }
                    out.add(new Attempt(d, d.callbackUrl(), key.key(), d.callbackSecret(), key.version()));
                    continue;
                }
                WebhookRow w = hooks.get(d.webhookId());
                out.add(new Attempt(
                        d,
                        w.url(),
                        keys.computeIfAbsent(
                                w.id(),
                                k -> secrets.signingKey(h, w.secretId(), w.secretVersion())
                                        .orElseThrow(() -> new IllegalStateException(
                                                "webhook " + w.id() + " has no signing key"))),
                        WebhookService.secretRef(w.id()),
                        w.secretVersion()));
            }
            return out;
        });
    }

    /**
     * The signing key of a callback's attempt, read now: the {@code signing_key_b64} of the project
     * secret it names, at the version it pins or else the secret's latest.
     */
    private CallbackKey callbackKey(Handle h, DeliveryRow d) {
        String name = d.callbackSecret();
        SecretRow secret = Daos.of(h, SecretDao.class)
                .find(d.projectId(), name)
                .filter(s -> s.name().equals(name))
                .orElse(null);
        if (secret == null) {
            return new CallbackKey(
                    null, 0, "secret \"" + name + "\" no longer exists in the project; the callback was not sent");
        }
        int version = d.callbackSecretVersion() == null ? secret.latestVersion() : d.callbackSecretVersion();
        Map<String, String> values = secrets.values(h, secret.id(), version).orElse(null);
        if (values == null) {
            return new CallbackKey(
                    null,
                    version,
                    "secret \"" + name + "\" has no enabled version " + version + "; the callback was not sent");
        }
        return SecretStore.signingKeyOf(values)
                .map(key -> new CallbackKey(key, version, null))
                .orElseGet(() -> new CallbackKey(
                        null,
                        version,
                        "secret \"" + name + "\" version " + version + " holds no " + SecretStore.SIGNING_KEY
                                + " of 32 bytes; the callback was not sent"));
    }

    private void deliver(Attempt a) {
        DeliveryRow d = a.delivery();
        WebhookSender.Outcome outcome;
        try {
            outcome = sender.send(
                    a.url(),
                    new WebhookSender.Message(
                            d.id(),
                            d.eventType(),
                            d.body().getBytes(StandardCharsets.UTF_8),
                            a.key(),
                            a.secretRef(),
                            a.secretVersion()),
                    d.traceparent());
        } catch (RuntimeException e) {
            outcome = new WebhookSender.Outcome(null, "network error: " + e.getMessage(), true, null, 0);
        }
        observer.attempted(
                outcome.delivered() ? "delivered" : outcome.retryable() ? "retry" : "failed", outcome.latencyMillis());
        outcomes.add(new Result(d, outcome));
    }

    /**
     * Writes outcomes in batches. A batch that fails is written again one outcome per transaction;
     * an outcome that cannot be written at all is lost only as a record: the lease runs out and the
     * attempt is made again (at least once, never lost).
     */
    private void recordLoop() {
        List<Result> batch = new ArrayList<>();
        while (!sendersDone || !outcomes.isEmpty()) {
            recorderHeartbeat.beat();
            try {
                Result first = outcomes.poll(POLL_MILLIS, TimeUnit.MILLISECONDS);
                if (first == null) {
                    continue;
                }
                batch.add(first);
                outcomes.drainTo(batch, 499);
                try {
                    jdbi.useTransaction(h -> batch.forEach(r -> record(h, r.delivery(), r.outcome())));
                    recorderFailures.succeeded();
                } catch (RuntimeException e) {
                    // With the database lost, one try per outcome would wait for the pool in turn: the
                    // batch is dropped as a record only, and its leases running out bring the attempts back.
                    for (Result r : recorderFailures.databaseLost(e) ? List.<Result>of() : batch) {
                        try {
                            jdbi.useTransaction(h -> record(h, r.delivery(), r.outcome()));
                        } catch (RuntimeException e2) {
                            log.warn(
                                    "recording the outcome of webhook delivery {} failed: {}",
                                    r.delivery().id(),
                                    e2.getMessage());
                        }
                    }
                }
                sent.addAndGet(batch.size());
                batch.clear();
                // Recorded attempts free their webhooks' concurrency slots: more may be claimable now.
                nudge();
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private void record(Handle h, DeliveryRow d, WebhookSender.Outcome outcome) {
        WebhookDao dao = Daos.of(h, WebhookDao.class);
        if (outcome.delivered()) {
            if (dao.delivered(d.id(), d.attempts()) > 0 && !d.callback()) {
                dao.endStreak(d.webhookId());
            }
            return;
        }
        boolean terminal = !outcome.retryable() || d.attempts() >= MAX_ATTEMPTS;
        String error = outcome.error().length() > 1000 ? outcome.error().substring(0, 1000) : outcome.error();
        double delaySeconds =
                terminal ? 0.0 : delay(d.attempts(), outcome.retryAfter()).toMillis() / 1000.0;
        if (dao.attemptFailed(d.id(), d.attempts(), terminal, delaySeconds, error) == 0) {
            return; // the webhook was deleted, or the lease ran out and another attempt owns the row
        }
        if (d.callback()) {
            if (terminal) {
                log.warn(
                        "interaction callback {} of {} failed after {} attempts: {}",
                        d.id(),
                        d.interactionId(),
                        d.attempts(),
                        error);
            }
            return; // a callback has no webhook whose streak it counts in
        }
        failed(dao, h, d.webhookId());
    }

    /**
     * A failed attempt: it starts the webhook's streak of failures, or, once every attempt has failed
     * for {@code disableAfter}, disables the webhook. A burst of failures costs a read each; the
     * webhook row is written only when a streak begins.
     */
    private void failed(WebhookDao dao, Handle h, String webhookId) {
        String streak = dao.streak(webhookId, settings.disableAfter().toMillis() / 1000.0)
                .orElse("gone");
        if (streak.equals("none")) {
            dao.startStreak(webhookId);
        } else if (streak.equals("long")) {
            disable(dao, h, webhookId);
        }
    }

    /**
     * Disables a webhook that has failed for too long, visibly: the flag, a system tag, its queue
     * failed, an audit entry, and the event {@code webhook.disabled} to the project's other webhooks
     * and automations.
     */
    private void disable(WebhookDao dao, Handle h, String webhookId) {
        // Checked again under the row lock: a success recorded meanwhile on another node ends the streak.
        WebhookDao.LongStreak streak = dao.lockLongStreak(
                        webhookId, settings.disableAfter().toMillis() / 1000.0)
                .orElse(null);
        if (streak == null) {
            return;
        }
        WebhookRow w = dao.lockById(webhookId).orElseThrow();
        OffsetDateTime since = streak.since().withOffsetSameInstant(ZoneOffset.UTC);
        OffsetDateTime now = streak.now().withOffsetSameInstant(ZoneOffset.UTC);
        String reason = "every delivery attempt failed for " + WebhookSettings.format(settings.disableAfter())
                + ", since " + since.toInstant().truncatedTo(ChronoUnit.SECONDS);
        Map<String, String> tags = new LinkedHashMap<>(Json.readStringMap(mapper, w.tags()));
        tags.put(WebhookService.DISABLED_TAG, reason);
        dao.update(new WebhookRow(
                w.id(),
                w.orgId(),
                w.projectId(),
                w.name(),
                w.url(),
                w.events(),
                false,
                Json.write(mapper, tags),
                w.secretId(),
                w.secretVersion(),
                w.failingSince(),
                w.createdBy(),
                w.updatedBy(),
                w.createdAt(),
                now));
        dao.failPending(w.id(), "webhook disabled after " + reason);
        Caller system = new Caller(w.orgId(), null, "system", null, null, null, false, null, null, null, null);
        audit.updated(
                h,
                system,
                w.projectId(),
                "webhook",
                w.id(),
                w.name(),
                AuditTrail.summary("enabled", true),
                AuditTrail.summary("enabled", false, "disabled_reason", reason, "failing_since", since));
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("webhook_id", w.id());
        data.put("name", w.name());
        data.put("url", w.url());
        data.put("reason", reason);
        data.put("failing_since", since);
        data.put("disabled_at", now);
        WebhookOutbox.queueFromWebhooks(h, ids, mapper, w.projectId(), WebhookOutbox.WEBHOOK_DISABLED, data, w.id());
        SourceEvents.publish(h, ids, mapper, w.projectId(), WebhookOutbox.WEBHOOK_DISABLED, w.name(), data);
        log.warn("webhook {} disabled: {}", w.id(), reason);
    }

    /** The wait before the attempt after attempt {@code attempt} (1-based). */
    Duration delay(int attempt, Duration retryAfter) {
        Duration base = SCHEDULE.get(Math.min(Math.max(attempt, 1), SCHEDULE.size()) - 1);
        double jitter = 1
                - WebhookSettings.JITTER
                + 2 * WebhookSettings.JITTER * ThreadLocalRandom.current().nextDouble();
        long millis = (long) (base.toMillis() * jitter);
        if (retryAfter != null && retryAfter.toMillis() > millis) {
            millis = retryAfter.toMillis();
        }
        millis = Math.min(millis, MAX_DELAY.toMillis());
        return Duration.ofMillis((long) (millis * settings.retryScale()));
    }

    /** Attempts whose outcome this node recorded (for benchmarks and logs). */
    public int attemptsRecorded() {
        return sent.get();
    }

    @Override
    public void close() {
        claimer.close();
        senders.shutdown();
        try {
            if (!senders.awaitTermination(5, TimeUnit.SECONDS)) {
                senders.shutdownNow();
            }
            sendersDone = true;
            recorder.join(5000); // it stops once the outcomes of finished attempts are written
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
