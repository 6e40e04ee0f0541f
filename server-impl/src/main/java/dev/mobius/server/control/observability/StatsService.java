package dev.mobius.server.control.observability;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mobius.server.mogplex.MogplexCaller;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.Clock;
import java.time.Duration;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.core.transaction.TransactionIsolationLevel;

/**
 * The summary figures of {@code GET /api/observability/stats}: calls (generations and agent runs),
 * sandboxes, engine runs and limit decisions of one user, over a window. Every figure is read in one
 * repeatable-read transaction, so they agree with each other.
 */
public final class StatsService {
    private final Jdbi jdbi;
    private final ObjectMapper mapper;
    private final Clock clock;

    public StatsService(Jdbi jdbi, ObjectMapper mapper, Clock clock) {
        this.jdbi = jdbi;
        this.mapper = mapper;
        this.clock = clock;
    }

    /** The window: unparseable bounds are ignored; default from 24 hours ago to now. */
    record Window(OffsetDateTime from, OffsetDateTime to) {}

    Window window(String from, String to, OffsetDateTime now) {
        OffsetDateTime start = parse(from);
        OffsetDateTime end = parse(to);
        return new Window(start != null ? start : now.minusHours(24), end != null ? end : now);
    }

    public ObjectNode stats(MogplexCaller user, String fromParam, String toParam) {
        OffsetDateTime now = OffsetDateTime.now(clock).withOffsetSameInstant(ZoneOffset.UTC);
        OffsetDateTime today = now.truncatedTo(ChronoUnit.DAYS);
        Window w = window(fromParam, toParam, now);
        return jdbi.inTransaction(TransactionIsolationLevel.REPEATABLE_READ, h -> {
            List<StatsDao.CallGroup> calls = StatsDao.calls(h, user.userId(), user.projectId(), w.from(), w.to());
            List<StatsDao.CallGroup> callsToday = StatsDao.calls(h, user.userId(), user.projectId(), today, now);
            StatsDao.Sandboxes sandboxes = StatsDao.sandboxes(h, user.userId(), w.from(), w.to(), now);
            long activeSandboxes = StatsDao.activeSandboxes(h, user.userId());
            long runsTotal = StatsDao.runsCreated(h, user.projectId(), w.from(), w.to());
            StatsDao.RunsNow runsNow = StatsDao.runsNow(h, user.projectId(), now);
            StatsDao.RunsConcluded concluded = StatsDao.runsConcluded(h, user.projectId(), w.from(), w.to());
            List<StatsDao.LimitGroup> limits = StatsDao.limits(h, user.userId(), w.from(), w.to());

            long totalCalls =
                    calls.stream().mapToLong(StatsDao.CallGroup::count).sum();
            long succeeded =
                    calls.stream().mapToLong(StatsDao.CallGroup::succeeded).sum();
            long ended = calls.stream().mapToLong(StatsDao.CallGroup::ended).sum();
            double durations = calls.stream()
                    .mapToDouble(StatsDao.CallGroup::durationMsSum)
                    .sum();
            long concludedCount = concluded.completed() + concluded.failedConcluded();

            ObjectNode summary = mapper.createObjectNode();
            summary.put("total_calls", totalCalls);
            summary.put(
                    "total_tokens",
                    calls.stream().mapToLong(StatsDao.CallGroup::tokens).sum());
            summary.put("total_cost", cents(calls));
            summary.put("cost_today", cents(callsToday));
            summary.put("reconciliation_pending", 0);
            summary.put("avg_duration_ms", ended == 0 ? 0 : Math.round(durations / ended));
            summary.put("success_rate", percent(succeeded, totalCalls, 0));
            summary.put(
                    "calls_today",
                    callsToday.stream().mapToLong(StatsDao.CallGroup::count).sum());
            summary.put(
                    "tokens_today",
                    callsToday.stream().mapToLong(StatsDao.CallGroup::tokens).sum());
            summary.put("sandbox_time_ms", sandboxes.timeMs());
            summary.put("sandbox_active", activeSandboxes);
            summary.put("sandbox_total", sandboxes.total());
            summary.put("job_runs_total", runsTotal);
            summary.put("job_runs_running", runsNow.running());
            summary.put("job_runs_pending", runsNow.pending());
            summary.put("job_runs_stale_pending", runsNow.stalePending());
            summary.put("job_runs_failed_in_range", concluded.failedStarted());
            summary.put("job_runs_repaired_in_range", 0);
            summary.put("job_runs_concluded_in_range", concludedCount);
            if (concludedCount == 0) {
                summary.putNull("job_runs_success_rate_in_range");
            } else {
                summary.put("job_runs_success_rate_in_range", percent(concluded.completed(), concludedCount, 0));
            }
            summary.put("suppressed_in_range", 0);
            summary.put("deferred_in_range", 0);
            summary.put("start_failed_in_range", 0);
            summary.put(
                    "limit_allowed_in_range",
                    limits.stream().mapToLong(StatsDao.LimitGroup::allowed).sum());
            summary.put(
                    "limit_denied_in_range",
                    limits.stream().mapToLong(StatsDao.LimitGroup::denied).sum());
            summary.put(
                    "oldest_pending_age_ms",
                    runsNow.oldestPending() == null
                            ? 0
                            : Math.max(
                                    0,
                                    Duration.between(runsNow.oldestPending(), now)
                                            .toMillis()));

            ObjectNode body = mapper.createObjectNode();
            body.set("summary", summary);
            ArrayNode byModel = body.putArray("by_model");
            Map<String, long[]> models = new LinkedHashMap<>();
            Map<String, Long> types = new LinkedHashMap<>();
            for (StatsDao.CallGroup g : calls) {
                long[] m = models.computeIfAbsent(g.model(), k -> new long[2]);
                m[0] += g.count();
                m[1] += g.tokens();
                types.merge(g.type(), g.count(), Long::sum);
            }
            models.entrySet().stream()
                    .sorted(Comparator.<Map.Entry<String, long[]>>comparingLong(e -> -e.getValue()[0])
                            .thenComparing(Map.Entry::getKey))
                    .forEach(e -> byModel.addObject()
                            .put("model", e.getKey())
                            .put("count", e.getValue()[0])
                            .put("tokens", e.getValue()[1]));
            ArrayNode byType = body.putArray("by_type");
            types.entrySet().stream()
                    .sorted(Comparator.<Map.Entry<String, Long>>comparingLong(e -> -e.getValue())
                            .thenComparing(Map.Entry::getKey))
                    .forEach(e -> byType.addObject().put("type", e.getKey()).put("count", e.getValue()));
            ArrayNode byRoute = body.putArray("limits_by_route");
            limits.forEach(l -> byRoute.addObject()
                    .put("route_key", l.routeKey())
                    .put("allowed", l.allowed())
                    .put("denied", l.denied()));
            return body;
        });
    }

    /** USD, two decimals, of the calls whose model has known prices. */
    private static BigDecimal cents(List<StatsDao.CallGroup> calls) {
        BigDecimal sum = BigDecimal.ZERO;
        for (StatsDao.CallGroup g : calls) {
            if (g.cost() != null) {
                sum = sum.add(g.cost());
            }
        }
        BigDecimal rounded = sum.setScale(2, RoundingMode.HALF_UP);
        return rounded.signum() == 0 ? BigDecimal.ZERO : rounded.stripTrailingZeros();
    }

    /** A percentage with one decimal, or {@code none} without a whole. */
    private static double percent(long part, long whole, double none) {
        if (whole == 0) {
            return none;
        }
        return BigDecimal.valueOf(part * 100.0 / whole)
                .setScale(1, RoundingMode.HALF_UP)
                .doubleValue();
    }

    /** An RFC 3339 instant, a local date-time or a date (both read as UTC); null when unparseable. */
    static OffsetDateTime parse(String value) {
        if (value == null || value.isBlank()) {
            return null;
        }
        String v = value.trim();
        try {
            return OffsetDateTime.parse(v).withOffsetSameInstant(ZoneOffset.UTC);
        } catch (DateTimeParseException notOffset) {
            try {
                return LocalDateTime.parse(v).atOffset(ZoneOffset.UTC);
            } catch (DateTimeParseException notLocal) {
                try {
                    return LocalDate.parse(v).atStartOfDay().atOffset(ZoneOffset.UTC);
                } catch (DateTimeParseException notDate) {
                    return null;
                }
            }
        }
    }
}
