package dev.mobius.cli;

import dev.mobius.client.worker.Action;
import dev.mobius.client.worker.Worker;
import java.util.Map;

/** An action as a jar ships it to {@code mobius worker --jar}: it reverses {@code text}. */
public final class ReverseAction implements Action {
    @Override
    public String name() {
        return "reverse";
    }

    @Override
    public Object handle(Worker.JobContext job) {
        String text = String.valueOf(job.parameters().get("text"));
        return Map.of("reversed", new StringBuilder(text).reverse().toString());
    }
}
