package dev.mobius.server.runs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mobius.api.model.AutomationRetryPolicy;
import dev.mobius.api.model.AutomationSpec;
import dev.mobius.api.model.AutomationStep;
import dev.mobius.server.automations.StepConfigCheck;
import dev.mobius.server.ids.Ids;
import dev.mobius.server.json.Json;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.jdbi.v3.core.Handle;
import org.junit.jupiter.api.Test;

/**
 * The engine's transitions, without a database: a queued run is advanced in memory through
 * {@link StepKind}s, and the events it would write are read before saving.
 */
class RunMachineTest {
    private final ObjectMapper mapper = Json.newMapper();

    /** A kind whose start and poll are given by the test; it records what it was told. */
    static final class Scripted implements StepKind {
        final String name;
        final Function<StepCall, Result> start;
        Function<StepCall, Result> poll = call -> new Waiting(null);
        final List<String> told = new ArrayList<>();

        Scripted(String name, Function<StepCall, Result> start) {
            this.name = name;
            this.start = start;
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public void check(String at, JsonNode config, StepConfigCheck check) {}

        @Override
        public Result start(StepCall call) {
            told.add(
                    "start " + call.step().stepKey() + " attempt " + call.step().attempt());
            return start.apply(call);
        }

        @Override
        public Result poll(StepCall call) {
            told.add("poll " + call.step().stepKey());
            return poll.apply(call);
        }

        @Override
        public void resumed(Handle h, StepRow step) {
            told.add("resumed " + step.stepKey());
        }

        @Override
        public void cancel(Handle h, RunRow run, StepRow step, String reason) {
            told.add("cancel " + step.stepKey() + ": " + reason);
        }
    }

    private RunState queued() {
        RunRow row = new RunRow(
                "run_1",
                "org_1",
                "prj_1",
                "aut_1",
                "Flow",
                "autv_1",
                1,
                "queued",
                "{\"who\":\"Ada\"}",
                "{}",
                null,
                "{\"type\":\"api\"}",
                null,
                null,
                null,
                null,
                null,
                null,
                null,
                null,
                0,
                1,
                null,
                null,
                null,
                null,
                null,
                null,
                null,
                null,
                null);
        return new RunState(null, new Ids(), mapper, null, row);
    }

    private RunMachine machine(StepKind... kinds) {
        return new RunMachine(mapper, new Specs(mapper), new StepKinds(List.of(kinds)), null);
    }

    private static AutomationStep step(String key, AutomationStep.KindEnum kind, Map<String, Object> config) {
        return new AutomationStep().key(key).kind(kind).config(config);
    }

    private static AutomationSpec spec(AutomationStep... steps) {
        return new AutomationSpec().steps(List.of(steps));
    }

    private static List<String> events(RunState run) {
        return run.unsavedEvents().stream().map(EventRow::eventType).toList();
    }

    private Map<String, Object> payload(RunState run, String eventType) {
        return run.unsavedEvents().stream()
                .filter(e -> e.eventType().equals(eventType))
                .reduce((a, b) -> b)
                .map(e -> Json.readObject(mapper, e.payload()))
                .orElseThrow();
    }

    @Test
    void aSleepOfNothingCompletesAndARunWithoutWaitsEnds() {
        RunState run = queued();
        machine(new SleepStep())
                .advance(run, spec(step("nap", AutomationStep.KindEnum.SLEEP, Map.of("duration", "0s"))));
        assertEquals(List.of("run.started", "step.started", "step.completed", "run.completed"), events(run));
        assertEquals("completed", run.status);
        assertEquals(Map.of("nap", Map.of()), run.result);
        assertNull(run.dueAt);
    }

    @Test
    void aSleepSuspendsTheRunUntilItsWakeTime() {
        RunState run = queued();
        machine(new SleepStep())
                .advance(run, spec(step("nap", AutomationStep.KindEnum.SLEEP, Map.of("duration", "5m"))));
        assertEquals(List.of("run.started", "step.started", "step.suspended", "run.suspended"), events(run));
        assertEquals(run.now.plusMinutes(5), run.wakeAt);
        assertEquals(run.wakeAt, run.dueAt);
        assertEquals(run.wakeAt.toString(), payload(run, "run.suspended").get("wake_at"));
        assertEquals("suspended", payload(run, "run.suspended").get("status"));
    }

    @Test
    void aSuspendedStepAnnouncesBetweenStepAndRunThenResumesWithItsOutput() {
        Scripted kind = new Scripted(
                "action",
                call -> StepKind.Suspended.on("inv_1", Map.of("invocation_id", "inv_1"))
                        .announcing("action.called", Map.of("invocation_id", "inv_1")));
        AutomationSpec spec = spec(
                step("call", AutomationStep.KindEnum.ACTION, Map.of()).saveAs("answer"),
                step("nap", AutomationStep.KindEnum.SLEEP, Map.of("duration", "0s"))
                        .input(Map.of("who", "{{ .context.answer.who }}")));
        RunMachine machine = machine(new SleepStep(), kind);
        RunState run = queued();
        machine.advance(run, spec);
        assertEquals(
                List.of("run.started", "step.started", "step.suspended", "action.called", "run.suspended"),
                events(run));
        assertEquals("inv_1", payload(run, "step.suspended").get("wait_id"));
        assertEquals("suspended", run.status);

        machine.advance(run, spec);
        assertEquals(List.of("start call attempt 1", "poll call"), kind.told, "still waiting: nothing changes");
        assertEquals("suspended", run.status);

        kind.poll = call -> new StepKind.Done(Map.of("who", "Ada"));
        machine.advance(run, spec);
        assertEquals(
                List.of("step.completed", "run.resumed", "step.started", "step.completed", "run.completed"),
                events(run).subList(5, events(run).size()));
        assertEquals(List.of("start call attempt 1", "poll call", "poll call", "resumed call"), kind.told);
        assertEquals(Map.of("who", "Ada"), run.context.get("answer"), "the output is saved under save_as");
        assertEquals("completed", run.status);
    }

    @Test
    void aFailedAttemptIsRetriedAfterItsDelayThenFailsTheRun() {
        Scripted kind = new Scripted("action", call -> StepKind.Failed.retryable("action_error", "it broke"));
        AutomationSpec spec = spec(step("call", AutomationStep.KindEnum.ACTION, Map.of())
                .retry(new AutomationRetryPolicy().maxAttempts(2).delay("10s")));
        RunMachine machine = machine(kind);
        RunState run = queued();
        machine.advance(run, spec);
        assertEquals(List.of("run.started", "step.started", "step.retry_scheduled"), events(run));
        assertEquals(run.now.plusSeconds(10), run.wakeAt);
        assertEquals("running", run.status);

        machine.advance(run, spec);
        assertEquals(1, kind.told.size(), "not before the retry delay");

        run.wakeAt = run.now;
        machine.advance(run, spec);
        assertEquals(List.of("start call attempt 1", "start call attempt 2"), kind.told);
        assertEquals("failed", run.status);
        assertEquals("action_error", run.errorType);
        assertEquals("it broke", run.errorMessage);
    }

    @Test
    void aFailureThatIsNotRetryableFailsTheRunAtOnceAndARetryAfterStretchesTheDelay() {
        Scripted kind = new Scripted("action", call -> new StepKind.Failed("invalid_input", "no", false, null));
        RunState run = queued();
        machine(kind)
                .advance(
                        run,
                        spec(step("call", AutomationStep.KindEnum.ACTION, Map.of())
                                .retry(new AutomationRetryPolicy().maxAttempts(5))));
        assertEquals("failed", run.status);
        assertEquals("invalid_input", run.errorType);

        Scripted later = new Scripted(
                "action", call -> new StepKind.Failed("rate_limited", "slow down", true, Duration.ofMinutes(1)));
        RunState other = queued();
        machine(later)
                .advance(
                        other,
                        spec(step("call", AutomationStep.KindEnum.ACTION, Map.of())
                                .retry(new AutomationRetryPolicy()
                                        .maxAttempts(5)
                                        .delay("1s"))));
        assertEquals(other.now.plusMinutes(1), other.wakeAt);
    }

    @Test
    void aSkippedStepMovesOnWithItsReason() {
        Scripted kind =
                new Scripted("automation", call -> new StepKind.Skipped(Map.of("reason", "condition is false")));
        RunState run = queued();
        machine(kind).advance(run, spec(step("child", AutomationStep.KindEnum.AUTOMATION, Map.of())));
        assertEquals(List.of("run.started", "step.started", "step.skipped", "run.completed"), events(run));
        assertEquals("condition is false", payload(run, "step.skipped").get("reason"));
    }

    @Test
    void aKindThisServerDoesNotKnowFailsTheStep() {
        RunState run = queued();
        machine().advance(run, spec(step("think", AutomationStep.KindEnum.AGENT, Map.of())));
        assertEquals("failed", run.status);
        assertEquals("unsupported_step", run.errorType);
        assertEquals("agent steps are not executed by this server yet", run.errorMessage);
    }

    @Test
    void aRunOutOfTimeCancelsWhatItsOpenStepWaitsOn() {
        Scripted kind = new Scripted("action", call -> StepKind.Suspended.on("inv_1", Map.of()));
        AutomationSpec spec = spec(step("call", AutomationStep.KindEnum.ACTION, Map.of()));
        RunMachine machine = machine(kind);
        RunState run = queued();
        machine.advance(run, spec);
        run.deadline = run.now;
        machine.advance(run, spec);
        assertEquals("failed", run.status);
        assertEquals("wall_clock_timeout", run.errorType);
        assertTrue(kind.told.contains("cancel call: the run exceeded its wall-clock timeout"), kind.told.toString());
    }

    @Test
    void templatesThatCannotResolveFailTheStep() {
        RunState run = queued();
        machine(new SleepStep())
                .advance(
                        run,
                        spec(step("nap", AutomationStep.KindEnum.SLEEP, Map.of("duration", "0s"))
                                .input(Map.of("x", "{{ .context.nothing.here }}"))));
        assertEquals("failed", run.status);
        assertEquals("template_error", run.errorType);
    }

    @Test
    void aKindIsRegisteredOnce() {
        try {
            new StepKinds(List.of(new SleepStep(), new SleepStep()));
        } catch (IllegalArgumentException e) {
            assertEquals("step kind sleep is registered twice", e.getMessage());
            return;
        }
        throw new AssertionError("a second sleep kind was accepted");
    }
}
