package dev.mobius.server.sessions;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mobius.server.ids.Ids;
import dev.mobius.server.json.Json;
import dev.mobius.server.time.Times;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.jdbi.v3.core.Handle;

/**
 * Sessions as the agent step and the API write them, inside the caller's transaction: opening the
 * live session of a key (or finding it again), appending messages under the session's row lock,
 * reading the transcript. Every change notifies the session streams of all nodes when it commits.
 */
public final class SessionStore {
    private final Ids ids;
    private final ObjectMapper mapper;

    public SessionStore(Ids ids, ObjectMapper mapper) {
        this.ids = ids;
        this.mapper = mapper;
    }

    /** A message to append. A {@code compaction} role makes a compaction entry covering every earlier message. */
    public record NewMessage(
            String role, String content, List<Map<String, Object>> contentBlocks, Map<String, Object> metadata) {}

    /**
     * The live (not deleted) session of (agent, scope, scope ref, name), created when there is none.
     * Race-safe: two transactions opening one key insert at most one row (the partial unique index),
     * and both then read the same one.
     */
    public SessionRow open(
            Handle h,
            String orgId,
            String projectId,
            String agentId,
            String scope,
            String scopeRefId,
            String scopeName,
            String title,
            String visibility,
            String origin,
            String createdBy) {
        var found = SessionDao.findLive(h, agentId, scope, scopeRefId, scopeName);
        if (found.isPresent()) {
            return found.get();
        }
        OffsetDateTime now = Times.now();
        SessionRow row = new SessionRow(
                ids.next("sess"),
                orgId,
                projectId,
                agentId,
                title,
                "active",
                origin,
                scope,
                scopeRefId,
                scopeName,
                visibility,
                null,
                null,
                null,
                0,
                0,
                0,
                1,
                null,
                null,
                null,
                createdBy,
                "{}",
                now,
                now);
        SessionDao.insertIfAbsent(h, row);
        return SessionDao.findLive(h, agentId, scope, scopeRefId, scopeName)
                .orElseThrow(() -> new IllegalStateException("session " + row.id() + " vanished while opened"));
    }

    /**
     * Appends {@code messages} in order: locks the session row, numbers them after the last
     * sequence, bumps {@code version} once, {@code message_count}, {@code last_message_at} and
     * {@code updated_at}. Token totals are absolute when given; null leaves each value unchanged.
     *
     * @return the session after the append
     * @throws IllegalArgumentException when there is no such session
     */
    public SessionRow append(
            Handle h,
            String sessionId,
            List<NewMessage> messages,
            Long tokenInputTotal,
            Long tokenOutputTotal,
            String model,
            String modelProvider) {
        return append(h, sessionId, messages, null, tokenInputTotal, tokenOutputTotal, model, modelProvider);
    }

    /** As {@link #append(Handle, String, List, Long, Long, String, String)}, with each message's own time (null: now). */
    SessionRow append(
            Handle h,
            String sessionId,
            List<NewMessage> messages,
            List<OffsetDateTime> createdAts,
            Long tokenInputTotal,
            Long tokenOutputTotal,
            String model,
            String modelProvider) {
        SessionRow session = SessionDao.lock(h, sessionId)
                .orElseThrow(() -> new IllegalArgumentException("no session " + sessionId));
        if (messages.isEmpty()) {
            return session;
        }
        OffsetDateTime now = Times.now();
        long next = SessionDao.lastSequence(h, sessionId) + 1L;
        List<MessageRow> rows = new ArrayList<>(messages.size());
        for (int i = 0; i < messages.size(); i++) {
            NewMessage m = messages.get(i);
            OffsetDateTime at = createdAts == null ? null : createdAts.get(i);
            String entryType = "compaction".equals(m.role()) ? "compaction" : "message";
            rows.add(new MessageRow(
                    ids.next("smsg"),
                    sessionId,
                    session.agentId(),
                    m.role(),
                    m.content() == null ? "" : m.content(),
                    m.contentBlocks() == null ? null : Json.write(mapper, m.contentBlocks()),
                    entryType,
                    "compaction".equals(entryType) ? (int) (next - 1) : null,
                    next++,
                    m.metadata() == null ? null : Json.write(mapper, m.metadata()),
                    at == null ? now : at));
        }
        SessionDao.insertMessages(h, rows);
        SessionDao.appended(h, sessionId, rows.size(), tokenInputTotal, tokenOutputTotal, model, modelProvider, now);
        SessionDao.notify(h, sessionId);
        return SessionDao.lock(h, sessionId).orElseThrow();
    }

    /** Every message of the session, ascending by sequence. */
    public List<MessageRow> messages(Handle h, String sessionId) {
        List<MessageRow> all = new ArrayList<>();
        for (List<MessageRow> page = SessionDao.messages(h, sessionId, 0, 1000);
                !page.isEmpty();
                page = page.size() < 1000
                        ? List.of()
                        : SessionDao.messages(
                                h, sessionId, page.get(page.size() - 1).sequence(), 1000)) {
            all.addAll(page);
        }
        return all;
    }

    /**
     * Archives ({@code archived}) or deletes ({@code deleted}) a session, or makes it {@code active}
     * again; its open streams end when it leaves {@code active}.
     */
    public SessionRow setStatus(Handle h, String sessionId, String status) {
        if (!List.of("active", "archived", "deleted").contains(status)) {
            throw new IllegalArgumentException("no session status " + status);
        }
        SessionDao.lock(h, sessionId).orElseThrow(() -> new IllegalArgumentException("no session " + sessionId));
        SessionDao.setStatus(h, sessionId, status, Times.now());
        SessionDao.notify(h, sessionId);
        return SessionDao.lock(h, sessionId).orElseThrow();
    }
}
