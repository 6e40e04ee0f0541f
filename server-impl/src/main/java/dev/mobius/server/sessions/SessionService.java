package dev.mobius.server.sessions;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mobius.api.model.AppendSessionMessage;
import dev.mobius.api.model.AppendSessionMessagesRequest;
import dev.mobius.api.model.Session;
import dev.mobius.api.model.SessionListResponse;
import dev.mobius.api.model.SessionMessage;
import dev.mobius.api.model.SessionMessageEntryType;
import dev.mobius.api.model.SessionMessageListResponse;
import dev.mobius.api.model.SessionMessageRole;
import dev.mobius.api.model.SessionOrigin;
import dev.mobius.api.model.SessionScope;
import dev.mobius.api.model.SessionStatus;
import dev.mobius.api.model.SessionVisibility;
import dev.mobius.server.db.SqlWhere;
import dev.mobius.server.http.ApiException;
import dev.mobius.server.http.PageRequest;
import dev.mobius.server.http.Validator;
import dev.mobius.server.json.Json;
import dev.mobius.server.tenancy.Caller;
import dev.mobius.server.tenancy.ProjectAccess;
import dev.mobius.server.tenancy.ProjectRow;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;

/**
 * The session routes: who may see which session (the project of the path, a live agent of it, a
 * session of that agent that is not deleted), listing, the transcript, and appends in one
 * transaction each. Permissions are the operations' own (checked before this is reached).
 */
public final class SessionService {
    static final List<String> STATUSES = List.of("active", "archived", "deleted");
    static final List<String> SCOPES = List.of("agent", "automation");
    private static final TypeReference<List<Map<String, Object>>> BLOCKS = new TypeReference<>() {};

    private final Jdbi jdbi;
    private final SessionStore store;
    private final ObjectMapper mapper;
    private final SessionStreams streams;

    public SessionService(Jdbi jdbi, SessionStore store, ObjectMapper mapper, SessionStreams streams) {
        this.jdbi = jdbi;
        this.store = store;
        this.mapper = mapper;
        this.streams = streams;
    }

    /** Rules of an append body the schema cannot state; bean validation reports the rest with them. */
    public static void check(AppendSessionMessagesRequest body, Validator v) {
        List<AppendSessionMessage> messages = body.getMessages();
        if (messages == null) {
            return;
        }
        for (int i = 0; i < messages.size(); i++) {
            AppendSessionMessage m = messages.get(i);
            if (m != null
                    && m.getContent() != null
                    && m.getContent().isBlank()
                    && (m.getContentBlocks() == null || m.getContentBlocks().isEmpty())) {
                v.add("messages[" + i + "].content", "must not be blank");
            }
        }
    }

    public SessionListResponse list(
            Caller caller,
            String projectRef,
            String agentId,
            String status,
            String scope,
            String provider,
            OffsetDateTime since,
            Integer limit) {
        Validator v = new Validator();
        if (status != null && !STATUSES.contains(status)) {
            v.add("status", "must be one of " + String.join(", ", STATUSES));
        }
        if (scope != null && !SCOPES.contains(scope)) {
            v.add("scope", "must be one of " + String.join(", ", SCOPES));
        }
        if (v.hasErrors()) {
            throw ApiException.invalidParameter(v.errors());
        }
        int n = PageRequest.limit(limit);
        return jdbi.withHandle(h -> {
            requireAgent(h, caller, projectRef, agentId);
            SqlWhere where = new SqlWhere().and("agent_id = :agent", "agent", agentId);
            where.and("status <> 'deleted'");
            where.andIf(status, "status = :status", "status");
            where.andIf(scope, "scope = :scope", "scope");
            where.andIf(provider, "model_provider = :provider", "provider");
            where.andIf(since, "updated_at >= :since", "since");
            return new SessionListResponse()
                    .items(SessionDao.list(h, where, n).stream().map(this::view).toList());
        });
    }

    public Session get(Caller caller, String projectRef, String agentId, String sessionId) {
        return jdbi.withHandle(h -> view(require(h, caller, projectRef, agentId, sessionId)));
    }

    public SessionMessageListResponse messages(
            Caller caller, String projectRef, String agentId, String sessionId, Long afterSequence, Integer limit) {
        int n = PageRequest.limit(limit);
        long after = afterSequence == null ? 0 : afterSequence;
        return jdbi.withHandle(h -> {
            require(h, caller, projectRef, agentId, sessionId);
            return new SessionMessageListResponse()
                    .items(SessionDao.messages(h, sessionId, after, n).stream()
                            .map(this::view)
                            .toList());
        });
    }

    public Session append(
            Caller caller, String projectRef, String agentId, String sessionId, AppendSessionMessagesRequest body) {
        List<SessionStore.NewMessage> messages = new ArrayList<>();
        List<OffsetDateTime> times = new ArrayList<>();
        for (AppendSessionMessage m : body.getMessages()) {
            messages.add(new SessionStore.NewMessage(
                    m.getRole().toString(), m.getContent(), m.getContentBlocks(), m.getMetadata()));
            times.add(m.getCreatedAt());
        }
        return jdbi.inTransaction(h -> {
            SessionRow session = require(h, caller, projectRef, agentId, sessionId);
            if (!session.active()) {
                throw ApiException.conflict("session_archived", "session \"" + sessionId + "\" is archived", null);
            }
            return view(store.append(
                    h,
                    sessionId,
                    messages,
                    times,
                    body.getTokenInputTotal(),
                    body.getTokenOutputTotal(),
                    body.getModel(),
                    body.getModelProvider()));
        });
    }

    /** Opens a session stream (see {@link SessionStreams#open}) after the same checks as the other routes. */
    public Object stream(Caller caller, String projectRef, String agentId, String sessionId, String lastEventId) {
        SessionRow session = jdbi.withHandle(h -> require(h, caller, projectRef, agentId, sessionId));
        return streams.open(session, lastEventId);
    }

    private static ProjectRow requireAgent(Handle h, Caller caller, String projectRef, String agentId) {
        ProjectRow project = ProjectAccess.require(h, caller, projectRef);
        if (!SessionDao.agentLive(h, project.id(), agentId)) {
            throw ApiException.notFound("agent \"" + agentId + "\" not found");
        }
        return project;
    }

    private static SessionRow require(Handle h, Caller caller, String projectRef, String agentId, String sessionId) {
        requireAgent(h, caller, projectRef, agentId);
        return SessionDao.find(h, agentId, sessionId)
                .orElseThrow(() -> ApiException.notFound("session \"" + sessionId + "\" not found"));
    }

    Session view(SessionRow r) {
        Session s = new Session()
                .id(r.id())
                .projectId(r.projectId())
                .agentId(r.agentId())
                .title(r.title())
                .status(SessionStatus.fromValue(r.status()))
                .origin(SessionOrigin.fromValue(r.origin()))
                .scope(SessionScope.fromValue(r.scope()))
                .scopeRefId(r.scopeRefId())
                .scopeName(r.scopeName())
                .sessionKey(r.scopeName())
                .visibility(SessionVisibility.fromValue(r.visibility()))
                .model(r.model())
                .modelProvider(r.modelProvider())
                .messageCount(r.messageCount())
                .tokenInputTotal(r.tokenInputTotal())
                .tokenOutputTotal(r.tokenOutputTotal())
                .version(r.version())
                .lastMessageAt(r.lastMessageAt())
                .forkedFromSessionId(r.forkedFromSessionId())
                .forkedFromSequence(r.forkedFromSequence())
                .createdBy(r.createdBy())
                .metadata(r.metadata() == null ? Map.of() : Json.readObject(mapper, r.metadata()))
                .createdAt(r.createdAt())
                .updatedAt(r.updatedAt());
        if (r.compactionPolicy() != null) {
            s.compactionPolicy(Json.readObject(mapper, r.compactionPolicy()));
        }
        return s;
    }

    SessionMessage view(MessageRow r) {
        SessionMessage m = new SessionMessage()
                .id(r.id())
                .sessionId(r.sessionId())
                .agentId(r.agentId())
                .role(SessionMessageRole.fromValue(r.role()))
                .content(r.content())
                .entryType(SessionMessageEntryType.fromValue(r.entryType()))
                .coversThroughSequence(r.coversThroughSequence())
                .sequence(r.sequence())
                .createdAt(r.createdAt());
        if (r.contentBlocks() != null) {
            m.contentBlocks(Json.read(mapper, r.contentBlocks(), BLOCKS));
        }
        if (r.metadata() != null) {
            m.metadata(Json.readObject(mapper, r.metadata()));
        }
        return m;
    }
}
