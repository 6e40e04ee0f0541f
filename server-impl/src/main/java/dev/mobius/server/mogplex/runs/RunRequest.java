package dev.mobius.server.mogplex.runs;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.mobius.server.ids.Ids;
import dev.mobius.server.mogplex.MogplexException;
import dev.mobius.server.mogplex.sandboxes.CheckoutRules;
import dev.mobius.server.mogplex.sandboxes.Repositories;
import dev.mobius.server.mogplex.sandboxes.SandboxService;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * A start request for an agent run, normalized: defaults applied (harness {@code codex}, the
 * repository's default branch, its root directory), the working branch resolved or generated, and
 * the hash idempotency compares: SHA-256 of the canonical JSON (keys sorted) of the normalized
 * fields, absent ones as null.
 */
public record RunRequest(
        String repoId,
        String prompt,
        String harness,
        String baseBranch,
        String workingBranch,
        boolean createBranch,
        String rootDirectory,
        String conversationId,
        String workspaceSessionId,
        String mode,
        String requestHash) {

    public static final Set<String> HARNESSES = Set.of("codex", "claude-code");
    public static final int MAX_PROMPT = 100_000;
    private static final ObjectMapper CANONICAL =
            new ObjectMapper().configure(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS, true);

    /**
     * Normalizes {@code body} for {@code repo} (already found), in the documented order: prompt,
     * harness, base branch, working branch, equal branches, root directory.
     */
    public static RunRequest normalize(JsonNode body, Repositories.Repo repo, String idempotencyKey) {
        JsonNode promptNode = body.get("prompt");
        String prompt = promptNode != null && promptNode.isTextual()
                ? promptNode.asText().strip()
                : "";
        if (prompt.isEmpty()) {
            throw MogplexException.badRequest("Prompt is required");
        }
        if (prompt.length() > MAX_PROMPT) {
            throw MogplexException.badRequest("Prompt is too long");
        }
        JsonNode harnessNode = body.get("harness");
        String harness;
        if (harnessNode == null || harnessNode.isNull()) {
            harness = "codex";
        } else if (!harnessNode.isTextual()) {
            throw MogplexException.badRequest("Invalid harness");
        } else {
            harness = harnessNode.asText().strip();
            if (harness.isEmpty()) {
                harness = "codex";
            }
        }
        if (!HARNESSES.contains(harness)) {
            throw MogplexException.badRequest("Invalid harness");
        }
        String base = SandboxService.branchField(body, "baseBranch", "Invalid base branch");
        base = base == null || base.isBlank() ? SandboxService.defaultBranch(repo) : base.strip();
        if (!CheckoutRules.validBranch(base)) {
            throw MogplexException.badRequest("Invalid base branch");
        }
        boolean create = SandboxService.createBranch(body);
        // The root directory is part of the hash a generated branch is named after, but its rule is
        // reported after the branches' (the documented order).
        String root;
        MogplexException rootProblem = null;
        try {
            root = SandboxService.rootDirectory(body, repo);
        } catch (MogplexException e) {
            root = null;
            rootProblem = e;
        }
        Map<String, Object> fields = new TreeMap<>();
        fields.put("repoId", Ids.uuidOf(repo.id()));
        fields.put("prompt", prompt);
        fields.put("harness", harness);
        fields.put("baseBranch", base);
        fields.put("createBranch", create);
        fields.put("rootDirectory", root);
        fields.put("conversationId", stored(body, "conversationId"));
        fields.put("workspaceSessionId", stored(body, "workspaceSessionId"));
        fields.put("mode", stored(body, "mode"));
        String working = SandboxService.branchField(body, "workingBranch", "Invalid working branch");
        if (working == null || working.isBlank()) {
            working = create
                    ? "mogplex/external/" + sha256(idempotencyKey).substring(0, 8) + "-"
                            + sha256(canonical(fields)).substring(0, 8)
                    : base;
        } else {
            working = working.strip();
        }
        if (!CheckoutRules.validBranch(working)) {
            throw MogplexException.badRequest("Invalid working branch");
        }
        if (create && working.equals(base)) {
            throw MogplexException.badRequest(SandboxService.SAME_BRANCH);
        }
        if (rootProblem != null) {
            throw rootProblem;
        }
        fields.put("workingBranch", working);
        return new RunRequest(
                repo.id(),
                prompt,
                harness,
                base,
                working,
                create,
                root,
                (String) fields.get("conversationId"),
                (String) fields.get("workspaceSessionId"),
                (String) fields.get("mode"),
                sha256(canonical(fields)));
    }

    /** Keys sorted, no whitespace: the text the request hash is taken of. */
    static String canonical(Map<String, Object> fields) {
        try {
            return CANONICAL.writeValueAsString(new TreeMap<>(fields));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    static String sha256(String text) {
        try {
            return HexFormat.of()
                    .formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Free-form fields are kept as given, trimmed; blank is absent; another JSON type than a string is refused. */
    private static String stored(JsonNode body, String field) {
        JsonNode node = body.get(field);
        if (node == null || node.isNull()) {
            return null;
        }
        if (!node.isTextual()) {
            throw MogplexException.badRequest("Invalid " + field);
        }
        String s = node.asText().strip();
        return s.isEmpty() ? null : s;
    }
}
