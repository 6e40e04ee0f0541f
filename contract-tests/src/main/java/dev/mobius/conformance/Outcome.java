package dev.mobius.conformance;

/**
 * What became of one case of the replay: a response example, or a bad input derived from one.
 *
 * @param operationId the contract's operation
 * @param name the example's name (or {@code bad input: <what it breaks>})
 * @param status the status the example documents ({@code 4xx} for bad inputs)
 * @param verdict passed, failed (with the first difference), or skipped (with the reason)
 * @param detail the first difference, the reason for skipping, or a note on a pass (empty if none)
 * @param millis time the case took, retries and waits included
 */
public record Outcome(String operationId, String name, String status, Verdict verdict, String detail, long millis) {
    public enum Verdict {
        PASSED,
        FAILED,
        SKIPPED
    }

    static Outcome passed(String operationId, String name, String status, String note, long millis) {
        return new Outcome(operationId, name, status, Verdict.PASSED, note, millis);
    }

    static Outcome failed(String operationId, String name, String status, String difference, long millis) {
        return new Outcome(operationId, name, status, Verdict.FAILED, difference, millis);
    }

    static Outcome skipped(String operationId, String name, String status, String reason) {
        return new Outcome(operationId, name, status, Verdict.SKIPPED, reason, 0);
    }

    /** {@code operationId/status/name}, as failures are listed. */
    public String label() {
        return operationId + "/" + status + "/" + name;
    }
}
