package dev.mobius.server.agents;

import dev.mobius.api.model.AgentTableAccessMode;
import dev.mobius.api.model.AgentTableGrant;
import dev.mobius.api.model.AgentTableGrantInput;
import dev.mobius.api.model.AgentTableGrantListResponse;
import dev.mobius.api.model.SkillAssignment;
import dev.mobius.api.model.SkillAssignmentListResponse;
import dev.mobius.api.model.ToolkitAssignment;
import dev.mobius.api.model.ToolkitAssignmentListResponse;
import dev.mobius.server.audit.AuditTrail;
import dev.mobius.server.db.Daos;
import dev.mobius.server.http.Validator;
import dev.mobius.server.ids.Ids;
import dev.mobius.server.skills.SkillDao;
import dev.mobius.server.skills.SkillService;
import dev.mobius.server.tenancy.Caller;
import dev.mobius.server.tenancy.ProjectAccess;
import dev.mobius.server.tenancy.ProjectRow;
import dev.mobius.server.time.Times;
import dev.mobius.server.toolkits.ToolkitDao;
import dev.mobius.server.toolkits.ToolkitService;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.BiConsumer;
import java.util.function.BiFunction;
import java.util.function.Predicate;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;

/**
 * What an agent is given: its toolkits and skills (ordered lists, replaced as a whole) and its
 * table grants. A replace locks the agent, checks every item (share-locking toolkits and skills,
 * so one cannot be archived while it is being assigned), and keeps the creation time of the
 * assignments it keeps. One audit entry per change.
 */
public final class AssignmentService {
    private final Jdbi jdbi;
    private final Ids ids;
    private final AuditTrail audit;
    private final ToolkitService toolkits;
    private final SkillService skills;

    public AssignmentService(Jdbi jdbi, Ids ids, AuditTrail audit, ToolkitService toolkits, SkillService skills) {
        this.jdbi = jdbi;
        this.ids = ids;
        this.audit = audit;
        this.toolkits = toolkits;
        this.skills = skills;
    }

    // ---- toolkits and skills --------------------------------------------------------------------

    public ToolkitAssignmentListResponse toolkits(Caller caller, String projectRef, String agentId) {
        return jdbi.withHandle(h -> {
            ProjectRow project = ProjectAccess.require(h, caller, projectRef);
            AgentRow agent = AgentService.require(h, project, agentId, false);
            return toolkitList(h, project, agent);
        });
    }

    public ToolkitAssignmentListResponse replaceToolkits(
            Caller caller, String projectRef, String agentId, List<String> toolkitIds) {
        return jdbi.inTransaction(h -> {
            ProjectRow project = ProjectAccess.require(h, caller, projectRef);
            AgentRow agent = AgentService.require(h, project, agentId, true);
            ToolkitDao items = Daos.of(h, ToolkitDao.class);
            replace(
                    h,
                    caller,
                    project,
                    agent,
                    TOOLKITS,
                    toolkitIds,
                    id -> items.shareActive(project.id(), id).isPresent());
            return toolkitList(h, project, agent);
        });
    }

    private ToolkitAssignmentListResponse toolkitList(Handle h, ProjectRow project, AgentRow agent) {
        ToolkitDao items = Daos.of(h, ToolkitDao.class);
        List<ToolkitAssignment> out = new ArrayList<>();
        for (AssignmentDao.Assigned a : Daos.of(h, AssignmentDao.class).toolkits(agent.id())) {
            ToolkitAssignment view = new ToolkitAssignment()
                    .agentId(agent.id())
                    .toolkitId(a.itemId())
                    .position(a.position())
                    .createdAt(a.createdAt());
            items.find(project.id(), a.itemId()).ifPresent(t -> view.toolkit(toolkits.view(t, project)));
            out.add(view);
        }
        return new ToolkitAssignmentListResponse().items(out);
    }

    public SkillAssignmentListResponse skills(Caller caller, String projectRef, String agentId) {
        return jdbi.withHandle(h -> {
            ProjectRow project = ProjectAccess.require(h, caller, projectRef);
            AgentRow agent = AgentService.require(h, project, agentId, false);
            return skillList(h, project, agent);
        });
    }

    public SkillAssignmentListResponse replaceSkills(
            Caller caller, String projectRef, String agentId, List<String> skillIds) {
        return jdbi.inTransaction(h -> {
            ProjectRow project = ProjectAccess.require(h, caller, projectRef);
            AgentRow agent = AgentService.require(h, project, agentId, true);
            SkillDao items = Daos.of(h, SkillDao.class);
            replace(
                    h,
                    caller,
                    project,
                    agent,
                    SKILLS,
                    skillIds,
                    id -> items.shareActive(project.id(), id).isPresent());
            return skillList(h, project, agent);
        });
    }

    private SkillAssignmentListResponse skillList(Handle h, ProjectRow project, AgentRow agent) {
        SkillDao items = Daos.of(h, SkillDao.class);
        List<SkillAssignment> out = new ArrayList<>();
        for (AssignmentDao.Assigned a : Daos.of(h, AssignmentDao.class).skills(agent.id())) {
            SkillAssignment view = new SkillAssignment()
                    .agentId(agent.id())
                    .skillId(a.itemId())
                    .enabled(a.enabled())
                    .position(a.position())
                    .createdAt(a.createdAt());
            items.find(project.id(), a.itemId()).ifPresent(s -> view.skill(skills.view(s, project)));
            out.add(view);
        }
        return new SkillAssignmentListResponse().items(out);
    }

    /** An ordered kind of assignment (toolkits, skills): where its rows are and how it is named. */
    private record Ordered(
            String field,
            String unusable,
            BiFunction<AssignmentDao, String, List<AssignmentDao.Assigned>> read,
            BiConsumer<AssignmentDao, String> clear,
            Adder add) {}

    private interface Adder {
        void add(AssignmentDao dao, String agentId, AssignmentDao.Assigned assignment);
    }

    private static final Ordered TOOLKITS = new Ordered(
            "toolkit_ids",
            "no active toolkit with this id",
            AssignmentDao::toolkits,
            AssignmentDao::clearToolkits,
            AssignmentDao::addToolkit);
    private static final Ordered SKILLS = new Ordered(
            "skill_ids",
            "no active skill with this id",
            AssignmentDao::skills,
            AssignmentDao::clearSkills,
            AssignmentDao::addSkill);

    /** Checks the ids (each must pass {@code usable}), replaces the set in order, records the change. */
    private void replace(
            Handle h,
            Caller caller,
            ProjectRow project,
            AgentRow agent,
            Ordered kind,
            List<String> itemIds,
            Predicate<String> usable) {
        checkItems(itemIds, kind.field(), kind.unusable(), usable);
        AssignmentDao dao = Daos.of(h, AssignmentDao.class);
        List<AssignmentDao.Assigned> before = kind.read().apply(dao, agent.id());
        List<AssignmentDao.Assigned> after = replaced(before, itemIds);
        kind.clear().accept(dao, agent.id());
        after.forEach(a -> kind.add().add(dao, agent.id(), a));
        record(h, caller, project, agent, kind.field(), before, after);
    }

    /** Every id must pass {@code usable}; a repeated id is refused too. 400 lists them all. */
    private static void checkItems(List<String> itemIds, String field, String unusable, Predicate<String> usable) {
        Validator v = new Validator();
        if (itemIds == null) {
            v.add(field, "is required");
        } else {
            Set<String> seen = new HashSet<>();
            for (int i = 0; i < itemIds.size(); i++) {
                String id = itemIds.get(i);
                if (!seen.add(id)) {
                    v.add(field + "[" + i + "]", "duplicates an earlier id");
                } else if (id == null || !usable.test(id)) {
                    v.add(field + "[" + i + "]", unusable);
                }
            }
        }
        v.throwIfInvalid();
    }

    /** The new ordered set; assignments kept from {@code before} keep their creation time. */
    private static List<AssignmentDao.Assigned> replaced(List<AssignmentDao.Assigned> before, List<String> itemIds) {
        Map<String, OffsetDateTime> since = new HashMap<>();
        before.forEach(a -> since.put(a.itemId(), a.createdAt()));
        OffsetDateTime now = Times.now();
        List<AssignmentDao.Assigned> after = new ArrayList<>();
        for (int i = 0; i < itemIds.size(); i++) {
            after.add(new AssignmentDao.Assigned(itemIds.get(i), i, true, since.getOrDefault(itemIds.get(i), now)));
        }
        return after;
    }

    private void record(
            Handle h,
            Caller caller,
            ProjectRow project,
            AgentRow agent,
            String field,
            List<AssignmentDao.Assigned> before,
            List<AssignmentDao.Assigned> after) {
        List<String> was = before.stream().map(AssignmentDao.Assigned::itemId).toList();
        List<String> is = after.stream().map(AssignmentDao.Assigned::itemId).toList();
        audit.updated(
                h, caller, project.id(), "agent", agent.id(), agent.name(), Map.of(field, was), Map.of(field, is));
    }

    // ---- table grants -------------------------------------------------------------------------

    public AgentTableGrantListResponse grants(Caller caller, String projectRef, String agentId) {
        return jdbi.withHandle(h -> {
            ProjectRow project = ProjectAccess.require(h, caller, projectRef);
            AgentRow agent = AgentService.require(h, project, agentId, false);
            return grantList(Daos.of(h, AssignmentDao.class).grants(agent.id()));
        });
    }

    public AgentTableGrantListResponse replaceGrants(
            Caller caller, String projectRef, String agentId, List<AgentTableGrantInput> grants) {
        return jdbi.inTransaction(h -> {
            ProjectRow project = ProjectAccess.require(h, caller, projectRef);
            AgentRow agent = AgentService.require(h, project, agentId, true);
            AssignmentDao dao = Daos.of(h, AssignmentDao.class);
            Validator v = new Validator();
            Set<String> seen = new HashSet<>();
            for (int i = 0; i < grants.size(); i++) {
                AgentTableGrantInput g = grants.get(i);
                String path = "grants[" + i + "].table_id";
                if (g.getTableId() == null) {
                    v.add(path, "is required");
                } else if (!seen.add(g.getTableId())) {
                    v.add(path, "duplicates an earlier table");
                } else if (dao.grantableTable(project.id(), g.getTableId(), agent.principalId())
                        .isEmpty()) {
                    v.add(path, "no table with this id the agent can use");
                }
            }
            v.throwIfInvalid();
            List<AssignmentDao.GrantRow> before = dao.grants(agent.id());
            Map<String, AssignmentDao.GrantRow> kept = new HashMap<>();
            before.forEach(g -> kept.put(g.tableId(), g));
            OffsetDateTime now = Times.now();
            List<AssignmentDao.GrantRow> after = new ArrayList<>();
            for (int i = 0; i < grants.size(); i++) {
                AgentTableGrantInput g = grants.get(i);
                String mode = g.getAccessMode().toString();
                AssignmentDao.GrantRow old = kept.get(g.getTableId());
                boolean same = old != null
                        && old.accessMode().equals(mode)
                        && Objects.equals(old.instructions(), g.getInstructions());
                after.add(new AssignmentDao.GrantRow(
                        old != null ? old.id() : ids.next("agtg"),
                        agent.id(),
                        g.getTableId(),
                        mode,
                        g.getInstructions(),
                        i,
                        old != null ? old.createdBy() : caller.principalId(),
                        old != null ? old.createdAt() : now,
                        same ? old.updatedAt() : now));
            }
            dao.clearGrants(agent.id());
            after.forEach(dao::addGrant);
            audit.updated(
                    h,
                    caller,
                    project.id(),
                    "agent",
                    agent.id(),
                    agent.name(),
                    Map.of("table_grants", grantSummary(before)),
                    Map.of("table_grants", grantSummary(after)));
            return grantList(after);
        });
    }

    private static List<Map<String, Object>> grantSummary(List<AssignmentDao.GrantRow> grants) {
        return grants.stream()
                .map(g -> AuditTrail.summary(
                        "table_id", g.tableId(), "access_mode", g.accessMode(), "instructions", g.instructions()))
                .toList();
    }

    private static AgentTableGrantListResponse grantList(List<AssignmentDao.GrantRow> rows) {
        return new AgentTableGrantListResponse()
                .items(rows.stream()
                        .map(g -> new AgentTableGrant()
                                .id(g.id())
                                .agentId(g.agentId())
                                .tableId(g.tableId())
                                .accessMode(AgentTableAccessMode.fromValue(g.accessMode()))
                                .instructions(g.instructions())
                                .createdBy(g.createdBy())
                                .createdAt(g.createdAt())
                                .updatedAt(g.updatedAt()))
                        .toList());
    }
}
