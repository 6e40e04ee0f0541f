package dev.mobius.server.runs;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mobius.api.model.AutomationRunSource;
import dev.mobius.api.model.AutomationSpec;
import dev.mobius.api.model.AutomationSpecInput;
import dev.mobius.server.automations.AutomationRow;
import dev.mobius.server.automations.VersionRow;
import dev.mobius.server.db.Daos;
import dev.mobius.server.events.Lifecycle;
import dev.mobius.server.http.ApiException;
import dev.mobius.server.http.Text;
import dev.mobius.server.http.Validator;
import dev.mobius.server.ids.Ids;
import dev.mobius.server.json.Json;
import dev.mobius.server.time.Times;
import dev.mobius.server.tracing.TraceContext;
import java.time.OffsetDateTime;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jdbi.v3.core.Handle;

/**
 * Creates queued runs, for every way a run starts: the API, HTTP, schedule and event triggers,
 * and parent runs. The concurrency policy is applied here: {@code skip} refuses the run while the
 * group is full, {@code replace} cancels the oldest runs of the group to make room, and
 * {@code queue} lets the run wait in {@code queued} until the engine finds a free slot.
 */
public final class RunStarter {
    public static final String CONCURRENCY_LIMIT_REACHED = "concurrency_limit_reached";

    /** Where a run comes from, beyond its source: the trigger whose limits apply, or the parent run. */
    public record Origin(
            String triggerId, String triggerPolicy, int triggerMaxConcurrentRuns, RunRow parent, String parentStepKey) {
        public static final Origin DIRECT = new Origin(null, null, 0, null, null);

        public static Origin trigger(String triggerId, String policy, int maxConcurrentRuns) {
            return new Origin(triggerId, policy, maxConcurrentRuns, null, null);
        }

        static Origin child(RunRow parent, String stepKey) {
            return new Origin(null, null, 0, parent, stepKey);
        }
    }

    /** Runs sharing a limit: those of one trigger, or all runs of the automation. */
    record Group(String key, String policy, int limit) {}

    private final Ids ids;
    private final ObjectMapper mapper;
    private final Specs specs;
    private final StepKinds kinds;
    private final Lifecycle lifecycle;

    public RunStarter(Ids ids, ObjectMapper mapper, Specs specs, StepKinds kinds, Lifecycle lifecycle) {
        this.ids = ids;
        this.mapper = mapper;
        this.specs = specs;
        this.kinds = kinds;
        this.lifecycle = lifecycle;
    }

    /** Why an automation cannot start a run now, if it cannot: archived, never published, paused. */
    public static void requireStartable(AutomationRow automation) {
        String handle = automation.handle();
        if (automation.status().equals("archived")) {
            throw ApiException.badRequest("automation_archived", "automation \"" + handle + "\" is archived");
        }
        if (automation.publishedVersion() == null) {
            throw ApiException.conflict(
                    "automation_not_published", "automation \"" + handle + "\" has no published version", null);
        }
        if (automation.status().equals("paused")) {
            throw ApiException.conflict("automation_paused", "automation \"" + handle + "\" is paused", null);
        }
    }

    /**
     * Starts a run of {@code automation} from step {@code stepKey} of {@code parent}: its source
     * names the parent run and the step.
     *
     * @throws ApiException when the automation cannot start a run now
     */
    RunRow startChild(Handle h, AutomationRow automation, Map<String, Object> inputs, RunRow parent, String stepKey) {
        requireStartable(automation);
        AutomationRunSource source =
                new AutomationRunSource().type("automation").id(parent.id()).label(stepKey);
        return insert(h, automation, inputs, source, null, Origin.child(parent, stepKey));
    }

    /** A run locked by the caller, to be changed in its transaction. */
    RunState state(Handle h, RunRow row) {
        return new RunState(h, ids, mapper, lifecycle, row);
    }

    /**
     * Creates a queued run of the automation's published version inside the caller's transaction;
     * the engine picks it up after commit.
     *
     * @throws ApiException 409 {@value #CONCURRENCY_LIMIT_REACHED} when a {@code skip} group is full
     */
    public RunRow insert(
            Handle h,
            AutomationRow automation,
            Map<String, Object> given,
            AutomationRunSource source,
            String externalId,
            Origin origin) {
        VersionRow version = specs.version(h, automation.id(), automation.publishedVersion());
        AutomationSpec spec = specs.of(h, version.id());
        Map<String, Object> inputs = inputs(spec, automation, given);
        Group group = group(spec, automation, origin);
        if (group != null) {
            makeRoom(h, group, automation);
        }
        OffsetDateTime now = Times.now();
        RunRow parent = origin.parent();
        RunRow row = new RunRow(
                ids.next("run"),
                automation.orgId(),
                automation.projectId(),
                automation.id(),
                automation.name(),
                version.id(),
                version.version(),
                "queued",
                Json.write(mapper, inputs),
                "{}",
                null,
                Json.write(mapper, source),
                externalId,
                Text.blankToNull(source.getTriggerFireId()),
                parent == null ? null : parent.id(),
                parent == null ? null : parent.automationId(),
                origin.parentStepKey(),
                group == null ? null : group.key(),
                group == null ? null : group.policy(),
                group == null ? null : group.limit(),
                0,
                1,
                null,
                null,
                null,
                null,
                now,
                null,
                null,
                now,
                now);
        // Written whole, with its first event: a run nobody has seen yet needs no notification.
        RunDao.insertWithFirstEvent(
                h,
                row,
                new EventRow(
                        ids.next("evt"),
                        row.id(),
                        1,
                        "run.queued",
                        null,
                        null,
                        Json.write(mapper, Map.of("status", "queued")),
                        now),
                TraceContext.current()); // the engine's spans of this run continue the starter's trace
        lifecycle.runChanged(h, row.projectId(), row.id(), List.of("run.queued"));
        return row;
    }

    /** A trigger's own policy wins over the automation's; {@code allow} means no group at all. */
    static Group group(AutomationSpec spec, AutomationRow automation, Origin origin) {
        if (origin.triggerId() != null
                && origin.triggerPolicy() != null
                && !origin.triggerPolicy().equals("allow")) {
            return new Group(
                    "trigger:" + origin.triggerId(),
                    origin.triggerPolicy(),
                    Math.max(1, origin.triggerMaxConcurrentRuns()));
        }
        if (spec.getConcurrency() != null && spec.getConcurrency() != AutomationSpec.ConcurrencyEnum.ALLOW) {
            return new Group(
                    "automation:" + automation.id(), spec.getConcurrency().toString(), 1);
        }
        return null;
    }

    private void makeRoom(Handle h, Group group, AutomationRow automation) {
        // Serialises starts (and slot checks) within the group across nodes.
        h.execute("SELECT pg_advisory_xact_lock(hashtext(?))", group.key());
        if (group.policy().equals("queue")) {
            return;
        }
        RunDao runs = Daos.of(h, RunDao.class);
        List<RunRow> active = runs.activeInGroup(group.key());
        if (active.size() < group.limit()) {
            return;
        }
        if (group.policy().equals("skip")) {
            Map<String, Object> details = new LinkedHashMap<>();
            details.put("max_concurrent_runs", group.limit());
            details.put("active_run_ids", active.stream().map(RunRow::id).toList());
            throw ApiException.conflict(
                    CONCURRENCY_LIMIT_REACHED,
                    "automation \"" + automation.handle() + "\" already has " + active.size()
                            + " active run(s), its limit; the concurrency policy is skip",
                    details);
        }
        for (RunRow old : active.subList(0, active.size() - group.limit() + 1)) {
            RunRow locked = runs.lock(old.projectId(), old.id()).orElseThrow();
            if (!locked.terminal()) {
                cancel(h, locked, "replaced by a newer run (concurrency policy replace)");
            }
        }
    }

    /** Cancels a locked, unfinished run: its open step, what its step kinds hold open (interactions, actions), then the run. */
    void cancel(Handle h, RunRow row, String reason) {
        RunState run = state(h, row);
        // Every open step: a graph run has one per branch still at work.
        for (StepRow open : run.openSteps()) {
            run.finishStep(open, "cancelled", null, null, null, Map.of());
        }
        for (StepKind kind : kinds.all()) {
            kind.cancelRun(h, row.id(), reason == null ? "run cancelled" : reason);
        }
        run.transition("cancelled", "run.cancelled", reason == null ? Map.of() : Map.of("reason", reason));
        run.save();
    }

    /** Spec defaults, then the automation's default inputs, then the given ones; required inputs must end up present. */
    private Map<String, Object> inputs(AutomationSpec spec, AutomationRow automation, Map<String, Object> given) {
        Map<String, Object> inputs = new LinkedHashMap<>();
        Map<String, AutomationSpecInput> declared = spec.getInputs() == null ? Map.of() : spec.getInputs();
        declared.forEach((name, input) -> {
            if (input.getDefault() != null) {
                inputs.put(name, input.getDefault());
            }
        });
        Map<String, Object> defaults = Json.readObject(mapper, automation.defaultInputs());
        if (defaults != null) {
            inputs.putAll(defaults);
        }
        if (given != null) {
            inputs.putAll(given);
        }
        Validator v = new Validator();
        declared.forEach((name, input) -> v.require(
                !Boolean.TRUE.equals(input.getRequired()) || inputs.get(name) != null,
                "inputs." + name,
                "is required"));
        v.throwIfInvalid();
        return inputs;
    }
}
