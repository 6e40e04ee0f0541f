package dev.mobius.server.agents;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mobius.api.model.Agent;
import dev.mobius.api.model.AgentListResponse;
import dev.mobius.api.model.AgentModelRoute;
import dev.mobius.api.model.AgentStatus;
import dev.mobius.api.model.AgentToolPresentation;
import dev.mobius.api.model.CreateAgentRequest;
import dev.mobius.api.model.UpdateAgentRequest;
import dev.mobius.server.access.AccessGuard;
import dev.mobius.server.access.PrincipalDao;
import dev.mobius.server.access.PrincipalRow;
import dev.mobius.server.access.PrincipalService;
import dev.mobius.server.access.RoleDao;
import dev.mobius.server.audit.AuditTrail;
import dev.mobius.server.db.Daos;
import dev.mobius.server.db.SqlWhere;
import dev.mobius.server.http.ApiException;
import dev.mobius.server.http.PageRequest;
import dev.mobius.server.http.Tags;
import dev.mobius.server.http.Text;
import dev.mobius.server.http.Validator;
import dev.mobius.server.ids.Ids;
import dev.mobius.server.json.Json;
import dev.mobius.server.tenancy.Caller;
import dev.mobius.server.tenancy.ProjectAccess;
import dev.mobius.server.tenancy.ProjectRow;
import dev.mobius.server.time.Times;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.OffsetDateTime;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;

/**
 * Agents: each created together with the {@code agent} principal it acts as (one transaction, one
 * audit entry), changed, soft-deleted (the principal disabled, so its keys stop working, while runs
 * and jobs keep naming the agent), and given an inbox address.
 */
public final class AgentService {
    private static final String TYPE = "agent";
    static final String AGENT_ROLE_ID = "role_000000000000000000000agent";
    static final String INBOX_DOMAIN = "mobiusinbox.com";
    /** Setting an agent's roles hands out permissions: only managers of access may. */
    static final String ROLES_PERMISSION = "mobius.access.manage";

    static final int MAX_NAME = 63;
    static final int MAX_DESCRIPTION = 500;
    static final int MAX_COLOR = 24;

    private final Jdbi jdbi;
    private final Ids ids;
    private final ObjectMapper mapper;
    private final AuditTrail audit;
    private final AccessGuard guard;
    private final PrincipalService principals;

    public AgentService(
            Jdbi jdbi, Ids ids, ObjectMapper mapper, AuditTrail audit, AccessGuard guard, PrincipalService principals) {
        this.jdbi = jdbi;
        this.ids = ids;
        this.mapper = mapper;
        this.audit = audit;
        this.guard = guard;
        this.principals = principals;
    }

    public Agent create(Caller caller, String projectRef, CreateAgentRequest request) {
        Validator v = new Validator();
        checkName(request.getName(), v);
        checkText(request.getDescription(), MAX_DESCRIPTION, "description", v);
        checkText(request.getColor(), MAX_COLOR, "color", v);
        checkRoute(request.getModelRoute(), v);
        Tags.validate(request.getTags(), "tags", v);
        if (request.getRoleIds() != null && request.getRoleIds().isEmpty()) {
            v.add("role_ids", "must hold at least one role id when given");
        }
        v.throwIfInvalidSorted();
        return jdbi.inTransaction(h -> {
            ProjectRow project = ProjectAccess.require(h, caller, projectRef);
            if (request.getRoleIds() != null) {
                guard.require(
                        h,
                        caller,
                        project.id(),
                        ROLES_PERMISSION,
                        "choosing an agent's roles needs permission " + ROLES_PERMISSION);
            }
            AgentDao dao = Daos.of(h, AgentDao.class);
            lockName(h, project, request.getName());
            if (dao.nameTaken(project.id(), request.getName(), "")) {
                throw nameTaken(request.getName());
            }
            OffsetDateTime now = Times.now();
            String id = ids.next("agt");
            PrincipalRow principal = new PrincipalRow(
                    ids.next("prin"),
                    caller.orgId(),
                    project.id(),
                    "agent",
                    "active",
                    id,
                    "The principal of agent " + request.getName(),
                    "agent:" + id,
                    null,
                    "{}",
                    "{}",
                    now,
                    now);
            Daos.of(h, PrincipalDao.class).insert(principal);
            AgentRow row = new AgentRow(
                    id,
                    project.orgId(),
                    project.id(),
                    principal.id(),
                    request.getName(),
                    Text.blankToNull(request.getDescription()),
                    Text.blankToNull(request.getKind()),
                    blank(request.getColor()) ? derivedColor(id) : request.getColor(),
                    Json.write(mapper, request.getCapabilities() == null ? List.of() : request.getCapabilities()),
                    Text.blankToNull(request.getModel()),
                    request.getModelRoute() == null ? null : Json.write(mapper, request.getModelRoute()),
                    request.getToolPresentation() == null
                            ? AgentToolPresentation.FLAT.toString()
                            : request.getToolPresentation().toString(),
                    Text.blankToNull(request.getSystemPrompt()),
                    AgentStatus.ACTIVE.toString(),
                    null,
                    Json.write(mapper, request.getTags() == null ? Map.of() : request.getTags()),
                    caller.principalId(),
                    caller.principalId(),
                    now,
                    now,
                    null);
            if (dao.insert(row) == 0) {
                throw nameTaken(request.getName()); // a concurrent create took the name first
            }
            List<String> roles;
            if (request.getRoleIds() != null) {
                roles = principals.setRoles(h, caller, project, principal.id(), request.getRoleIds());
            } else {
                // The default role too is granted by the caller: no one makes an agent stronger than
                // themselves by setting a strong default.
                String role = project.defaultAgentRoleId() != null ? project.defaultAgentRoleId() : AGENT_ROLE_ID;
                RoleDao roleDao = Daos.of(h, RoleDao.class);
                guard.requireCanGrantRole(
                        h,
                        caller,
                        project.id(),
                        roleDao.find(project.id(), role).orElseThrow());
                roleDao.assign(ids.next("ra"), principal.id(), role, project.id(), caller.principalId(), now);
                roles = List.of(role);
            }
            Map<String, Object> after = summary(row);
            after.put("role_ids", roles);
            audit.created(h, caller, project.id(), TYPE, row.id(), row.name(), after);
            return view(row);
        });
    }

    public AgentListResponse list(
            Caller caller, String projectRef, String principalId, String status, List<String> tags, Integer limit) {
        int n = PageRequest.limit(limit);
        List<Tags.Filter> filters = Tags.parseFilters(tags);
        return jdbi.withHandle(h -> {
            ProjectRow project = ProjectAccess.require(h, caller, projectRef);
            SqlWhere where =
                    new SqlWhere().and("project_id = :p", "p", project.id()).and("deleted_at IS NULL");
            where.andIf(principalId, "principal_id = :principal", "principal");
            where.andIf(status, "status = :status", "status");
            Tags.apply(filters, "tags", where);
            return new AgentListResponse()
                    .items(Daos.of(h, AgentDao.class).list(where, n).stream()
                            .map(this::view)
                            .toList());
        });
    }

    public Agent get(Caller caller, String projectRef, String id) {
        return jdbi.withHandle(h -> view(require(h, ProjectAccess.require(h, caller, projectRef), id, false)));
    }

    /** The live agent, or 404; {@code lock} holds its row until the transaction ends. */
    static AgentRow require(Handle h, ProjectRow project, String id, boolean lock) {
        AgentDao dao = Daos.of(h, AgentDao.class);
        return (lock ? dao.lock(project.id(), id) : dao.find(project.id(), id))
                .orElseThrow(() -> ApiException.notFound("agent \"" + id + "\" not found"));
    }

    /** PATCH: fields left out keep their value. */
    public Agent update(Caller caller, String projectRef, String id, UpdateAgentRequest request) {
        Validator v = new Validator();
        if (request.getName() != null) {
            checkName(request.getName(), v);
        }
        checkText(request.getDescription(), MAX_DESCRIPTION, "description", v);
        checkText(request.getColor(), MAX_COLOR, "color", v);
        checkRoute(request.getModelRoute(), v);
        Tags.validate(request.getTags(), "tags", v);
        v.throwIfInvalidSorted();
        return jdbi.inTransaction(h -> {
            ProjectRow project = ProjectAccess.require(h, caller, projectRef);
            AgentRow row = require(h, project, id, true);
            AgentDao dao = Daos.of(h, AgentDao.class);
            String name = request.getName() != null ? request.getName() : row.name();
            if (request.getName() != null) {
                lockName(h, project, name);
                if (dao.nameTaken(project.id(), name, row.id())) {
                    throw nameTaken(name);
                }
            }
            AgentRow after = new AgentRow(
                    row.id(),
                    row.orgId(),
                    row.projectId(),
                    row.principalId(),
                    name,
                    text(request.getDescription(), row.description()),
                    text(request.getKind(), row.kind()),
                    request.getColor() == null
                            ? row.color()
                            : blank(request.getColor()) ? derivedColor(row.id()) : request.getColor(),
                    request.getCapabilities() == null
                            ? row.capabilities()
                            : Json.write(mapper, request.getCapabilities()),
                    text(request.getModel(), row.model()),
                    request.getModelRoute() == null ? row.modelRoute() : Json.write(mapper, request.getModelRoute()),
                    request.getToolPresentation() == null
                            ? row.toolPresentation()
                            : request.getToolPresentation().toString(),
                    text(request.getSystemPrompt(), row.systemPrompt()),
                    request.getStatus() == null
                            ? row.status()
                            : request.getStatus().toString(),
                    row.emailAddress(),
                    request.getTags() == null
                            ? row.tags()
                            : Json.write(
                                    mapper, Tags.replace(Json.readStringMap(mapper, row.tags()), request.getTags())),
                    row.createdBy(),
                    caller.principalId(),
                    row.createdAt(),
                    Times.now(),
                    null);
            Map<String, Object> before = summary(row);
            Map<String, Object> changed = summary(after);
            if (before.equals(changed)) {
                return view(row);
            }
            dao.update(after);
            audit.updated(h, caller, project.id(), TYPE, row.id(), after.name(), before, changed);
            if (row.status().equals("inactive") && after.status().equals("active")) {
                // Its jobs held back while inactive are claimable again: waiting workers are told.
                h.execute(
                        dev.mobius.server.jobs.JobDao.NOTIFY,
                        dev.mobius.server.jobs.JobQueue.CHANNEL,
                        "w:" + project.id());
            }
            return view(after);
        });
    }

    /** Soft delete: the row stays for the runs and jobs that name it; its principal is disabled. */
    public void delete(Caller caller, String projectRef, String id) {
        jdbi.useTransaction(h -> {
            ProjectRow project = ProjectAccess.require(h, caller, projectRef);
            AgentRow row = require(h, project, id, true);
            OffsetDateTime now = Times.now();
            Daos.of(h, AgentDao.class).update(withDeleted(row, caller.principalId(), now));
            Daos.of(h, PrincipalDao.class).setState(row.principalId(), "disabled", now);
            // What a deleted agent was given goes with it: its toolkits and skills no longer count
            // as assigned (they may be archived), its grants and bindings no longer apply.
            AssignmentDao given = Daos.of(h, AssignmentDao.class);
            given.clearToolkits(row.id());
            given.clearSkills(row.id());
            given.clearGrants(row.id());
            Daos.of(h, BindingDao.class).deleteAll(row.id());
            audit.deleted(h, caller, project.id(), TYPE, row.id(), row.name(), summary(row));
        });
    }

    /** Gives the agent its inbox address; asking again changes nothing. */
    public Agent provisionInbox(Caller caller, String projectRef, String id) {
        return jdbi.inTransaction(h -> {
            ProjectRow project = ProjectAccess.require(h, caller, projectRef);
            AgentRow row = require(h, project, id, true);
            if (row.emailAddress() != null) {
                return view(row);
            }
            String address = row.id() + "@" + INBOX_DOMAIN;
            OffsetDateTime now = Times.now();
            Daos.of(h, AgentDao.class).setInbox(row.id(), address, caller.principalId(), now);
            audit.updated(
                    h, caller, project.id(), TYPE, row.id(), row.name(), Map.of(), Map.of("email_address", address));
            return view(require(h, project, id, false));
        });
    }

    // ---- helpers ------------------------------------------------------------------------------

    /**
     * Creates and renames to one name take turns (a transaction-scoped lock on the project and the
     * name, ignoring case), so the second sees the first and answers {@code agent_name_taken}.
     */
    private static void lockName(Handle h, ProjectRow project, String name) {
        h.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended(?, 0))",
                "agent-name\n" + project.id() + "\n" + name.toLowerCase(java.util.Locale.ROOT));
    }

    private static AgentRow withDeleted(AgentRow r, String by, OffsetDateTime at) {
        return new AgentRow(
                r.id(),
                r.orgId(),
                r.projectId(),
                r.principalId(),
                r.name(),
                r.description(),
                r.kind(),
                r.color(),
                r.capabilities(),
                r.model(),
                r.modelRoute(),
                r.toolPresentation(),
                r.systemPrompt(),
                r.status(),
                r.emailAddress(),
                r.tags(),
                r.createdBy(),
                by,
                r.createdAt(),
                at,
                at);
    }

    private static void checkName(String name, Validator v) {
        if (name == null || name.isBlank() || name.length() > MAX_NAME) {
            v.add("name", "must be 1 to " + MAX_NAME + " characters, not blank");
        }
    }

    private static void checkText(String text, int max, String field, Validator v) {
        if (text != null && text.length() > max) {
            v.add(field, "must be at most " + max + " characters");
        }
    }

    private static void checkRoute(AgentModelRoute route, Validator v) {
        if (route != null && route.getMode() == null) {
            v.add("model_route.mode", "is required");
        }
    }

    private static boolean blank(String s) {
        return s == null || s.isEmpty();
    }

    /** A PATCH of a text field: absent keeps it, an empty string clears it. */
    private static String text(String given, String current) {
        return given == null ? current : given.isEmpty() ? null : given;
    }

    /** The colour of an agent that was given none: stable for its id. */
    static String derivedColor(String id) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(id.getBytes(StandardCharsets.UTF_8));
            return "#" + HexFormat.of().formatHex(digest).substring(0, 6);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }

    private static ApiException nameTaken(String name) {
        return ApiException.conflict(
                "agent_name_taken", "an agent named \"" + name + "\" already exists", Map.of("name", name));
    }

    private Map<String, Object> summary(AgentRow r) {
        return AuditTrail.summary(
                "name", r.name(),
                "description", r.description(),
                "kind", r.kind(),
                "color", r.color(),
                "capabilities", Json.readTree(mapper, r.capabilities()),
                "model", r.model(),
                "model_route", r.modelRoute() == null ? null : Json.readObject(mapper, r.modelRoute()),
                "tool_presentation", r.toolPresentation(),
                "system_prompt", r.systemPrompt(),
                "status", r.status(),
                "tags", Json.readStringMap(mapper, r.tags()));
    }

    Agent view(AgentRow r) {
        return new Agent()
                .id(r.id())
                .principalId(r.principalId())
                .name(r.name())
                .description(r.description())
                .kind(r.kind())
                .color(r.color())
                .capabilities(Json.read(mapper, r.capabilities(), new TypeReference<List<String>>() {}))
                .model(r.model())
                .modelRoute(r.modelRoute() == null ? null : Json.read(mapper, r.modelRoute(), AgentModelRoute.class))
                .toolPresentation(AgentToolPresentation.fromValue(r.toolPresentation()))
                .systemPrompt(r.systemPrompt())
                .status(AgentStatus.fromValue(r.status()))
                .emailAddress(r.emailAddress())
                .tags(Json.readStringMap(mapper, r.tags()))
                .createdBy(r.createdBy())
                .updatedBy(r.updatedBy())
                .createdAt(r.createdAt())
                .updatedAt(r.updatedAt())
                .deletedAt(r.deletedAt());
    }
}
