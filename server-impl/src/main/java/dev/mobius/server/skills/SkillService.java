package dev.mobius.server.skills;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mobius.api.model.ImportSkillRequest;
import dev.mobius.api.model.ImportedSkill;
import dev.mobius.api.model.Skill;
import dev.mobius.api.model.SkillImportWarning;
import dev.mobius.api.model.SkillListResponse;
import dev.mobius.api.model.SkillRequest;
import dev.mobius.server.actions.Catalog;
import dev.mobius.server.audit.AuditTrail;
import dev.mobius.server.db.Daos;
import dev.mobius.server.http.ApiException;
import dev.mobius.server.http.Validator;
import dev.mobius.server.ids.Ids;
import dev.mobius.server.json.Json;
import dev.mobius.server.tenancy.Caller;
import dev.mobius.server.tenancy.ProjectAccess;
import dev.mobius.server.tenancy.ProjectRow;
import dev.mobius.server.time.Times;
import dev.mobius.server.toolkits.Grants;
import dev.mobius.server.toolkits.Slugs;
import dev.mobius.server.toolkits.ToolkitService;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;

/**
 * Skills: the project's own (created, imported from skill documents, replaced, archived here) and
 * the system's (read-only, from the migrations). One transaction per command, with its audit entry.
 */
public final class SkillService {
    static final int MAX_DOCUMENT_BYTES = 256 * 1024;
    static final int MAX_INSTRUCTION_BYTES = 256 * 1024;
    static final int MAX_FRONTMATTER_BYTES = 65536;
    static final int MAX_TOOLS = 100;
    static final int MAX_NAME = 80;
    static final int MAX_DESCRIPTION = 1000;
    static final int MAX_MODEL_HINT = 200;
    static final String TOOL_RULE = "must be an action name or a name prefix ending in *";

    private static final String TYPE = "skill";
    /** Tools of Claude Code and Dive documents with a Mobius equivalent (lowercased name to action). */
    private static final Map<String, String> EQUIVALENTS =
            Map.of("webfetch", "http.request", "fetch", "http.request", "web_fetch", "http.request");

    private final Jdbi jdbi;
    private final Ids ids;
    private final ObjectMapper mapper;
    private final AuditTrail audit;
    private final Catalog catalog;

    public SkillService(Jdbi jdbi, Ids ids, ObjectMapper mapper, AuditTrail audit, Catalog catalog) {
        this.jdbi = jdbi;
        this.ids = ids;
        this.mapper = mapper;
        this.audit = audit;
        this.catalog = catalog;
    }

    public SkillListResponse list(Caller caller, String projectRef, Boolean includeSystem, String status) {
        String wanted = ToolkitService.checkStatus(status);
        return jdbi.withHandle(h -> {
            ProjectRow project = ProjectAccess.require(h, caller, projectRef);
            List<Skill> items =
                    Daos.of(h, SkillDao.class)
                            .list(project.id(), includeSystem == null || includeSystem, wanted)
                            .stream()
                            .map(row -> view(row, project))
                            .toList();
            return new SkillListResponse().items(items);
        });
    }

    public Skill get(Caller caller, String projectRef, String id) {
        return jdbi.withHandle(h -> {
            ProjectRow project = ProjectAccess.require(h, caller, projectRef);
            return view(Daos.of(h, SkillDao.class).find(project.id(), id).orElseThrow(() -> notFound(id)), project);
        });
    }

    public Skill create(Caller caller, String projectRef, SkillRequest request) {
        Fields fields = fields(request);
        return jdbi.inTransaction(h -> {
            ProjectRow project = ProjectAccess.require(h, caller, projectRef);
            return view(insert(h, caller, project, "project", fields), project);
        });
    }

    public ImportedSkill importDocument(Caller caller, String projectRef, ImportSkillRequest request) {
        if (request.getContent().getBytes(StandardCharsets.UTF_8).length > MAX_DOCUMENT_BYTES) {
            throw ApiException.validation("content", "must be at most " + MAX_DOCUMENT_BYTES + " bytes");
        }
        if (request.getName() != null
                && (request.getName().isEmpty() || request.getName().length() > MAX_NAME)) {
            throw ApiException.validation("name", "must be 1-" + MAX_NAME + " characters");
        }
        SkillDocument.Parsed parsed = SkillDocument.parse(request.getContent());
        return jdbi.inTransaction(h -> {
            ProjectRow project = ProjectAccess.require(h, caller, projectRef);
            List<SkillImportWarning> warnings = new ArrayList<>();
            Fields fields = imported(h, project, request.getName(), parsed, warnings);
            SkillRow row = insert(h, caller, project, "imported", fields);
            return importedView(row, project, warnings);
        });
    }

    /** PUT: every field from the request; absent ones are cleared. System skills are read-only. */
    public Skill update(Caller caller, String projectRef, String id, SkillRequest request) {
        return jdbi.inTransaction(h -> {
            ProjectRow project = ProjectAccess.require(h, caller, projectRef);
            SkillDao dao = Daos.of(h, SkillDao.class);
            SkillRow row = writable(dao.lock(project.id(), id), id);
            Fields fields = fields(request);
            if (row.active()) {
                checkUnique(dao, project, fields, row.id());
            }
            SkillRow after = row(
                    row.id(),
                    project,
                    row.source(),
                    row.status(),
                    fields,
                    row.createdBy(),
                    caller.principalId(),
                    row.createdAt(),
                    Times.now());
            Map<String, Object> before = summary(row);
            Map<String, Object> changed = summary(after);
            if (before.equals(changed) && java.util.Objects.equals(row.frontmatter(), after.frontmatter())) {
                return view(row, project); // nothing to change, nothing to record
            }
            dao.update(after);
            audit.updated(h, caller, project.id(), TYPE, row.id(), after.name(), before, changed);
            return view(after, project);
        });
    }

    /**
     * Archives the skill unless an agent is assigned it. The row lock taken first is held until
     * commit, so an assignment (which takes FOR SHARE on the row) either committed before the count
     * below, and is counted, or waits and then finds the skill archived.
     */
    public void delete(Caller caller, String projectRef, String id) {
        jdbi.useTransaction(h -> {
            ProjectRow project = ProjectAccess.require(h, caller, projectRef);
            SkillDao dao = Daos.of(h, SkillDao.class);
            SkillRow row = writable(dao.lock(project.id(), id), id);
            if (!row.active()) {
                return;
            }
            dev.mobius.server.toolkits.CatalogueItems.archiveUnlessAssigned(
                    h,
                    audit,
                    caller,
                    project.id(),
                    TYPE,
                    row.id(),
                    row.name(),
                    () -> dao.assignedAgents(row.id()),
                    () -> dao.archive(row.id(), caller.principalId(), Times.now()));
        });
    }

    // ---- rules --------------------------------------------------------------------------------

    /** A skill's fields after the rules. */
    private record Fields(
            String name,
            String slug,
            String description,
            String instructions,
            List<String> allowedTools,
            String frontmatter,
            String modelHint,
            Boolean userInvocable) {}

    /** The rules of createSkill and updateSkill, every failure reported at once. */
    private Fields fields(SkillRequest request) {
        Validator v = new Validator();
        String slug = ToolkitService.slug(request.getName(), request.getSlug(), v);
        if (request.getInstructions().getBytes(StandardCharsets.UTF_8).length > MAX_INSTRUCTION_BYTES) {
            v.add("instructions", "must be at most " + MAX_INSTRUCTION_BYTES + " bytes");
        }
        List<String> tools = new ArrayList<>();
        List<String> given = request.getAllowedTools() == null ? List.of() : request.getAllowedTools();
        if (given.size() > MAX_TOOLS) {
            v.add("allowed_tools", "must hold at most " + MAX_TOOLS + " tools");
        } else {
            for (int i = 0; i < given.size(); i++) {
                if (!Grants.isToolName(given.get(i))) {
                    v.add("allowed_tools[" + i + "]", TOOL_RULE);
                } else {
                    tools.add(given.get(i));
                }
            }
        }
        String frontmatter = null;
        if (request.getFrontmatter() != null) {
            frontmatter = Json.write(mapper, request.getFrontmatter());
            if (frontmatter.getBytes(StandardCharsets.UTF_8).length > MAX_FRONTMATTER_BYTES) {
                v.add("frontmatter", "must be at most " + MAX_FRONTMATTER_BYTES + " bytes as JSON");
            }
        }
        if (request.getModelHint() != null && request.getModelHint().length() > MAX_MODEL_HINT) {
            v.add("model_hint", "must be at most " + MAX_MODEL_HINT + " characters");
        }
        v.throwIfInvalidSorted();
        return new Fields(
                request.getName(),
                slug,
                request.getDescription(),
                request.getInstructions(),
                List.copyOf(new LinkedHashSet<>(tools)),
                frontmatter,
                request.getModelHint(),
                request.getUserInvocable());
    }

    /** The fields of an imported document: its frontmatter mapped, its tools translated. */
    private Fields imported(
            Handle h,
            ProjectRow project,
            String nameOverride,
            SkillDocument.Parsed doc,
            List<SkillImportWarning> warnings) {
        Map<String, Object> fm = doc.frontmatter() == null ? Map.of() : doc.frontmatter();
        String name = nameOverride;
        if (name == null) {
            name = string(fm, "name");
            if (name != null && (name.isEmpty() || name.length() > MAX_NAME)) {
                throw SkillDocument.invalid("frontmatter field name must be 1-" + MAX_NAME + " characters");
            }
        }
        if (name == null) {
            throw SkillDocument.invalid("the skill document has no name; add name to its frontmatter or pass name");
        }
        String slug = Slugs.derive(name);
        if (slug.isEmpty()) {
            throw SkillDocument.invalid("the skill's name has no letters or digits to derive a slug from");
        }
        String description = string(fm, "description");
        if (description != null && description.length() > MAX_DESCRIPTION) {
            int cut = Character.isHighSurrogate(description.charAt(MAX_DESCRIPTION - 1))
                    ? MAX_DESCRIPTION - 1
                    : MAX_DESCRIPTION;
            description = description.substring(0, cut);
            warnings.add(new SkillImportWarning()
                    .code("description_truncated")
                    .message("description is longer than " + MAX_DESCRIPTION + " characters; cut to "
                            + MAX_DESCRIPTION));
        }
        String model = string(fm, "model");
        if (model != null && model.length() > MAX_MODEL_HINT) {
            throw SkillDocument.invalid("frontmatter field model must be at most " + MAX_MODEL_HINT + " characters");
        }
        if ("inherit".equals(model)) {
            model = null; // the session's model: no hint
        }
        Boolean userInvocable = flag(fm, fm.containsKey("user-invocable") ? "user-invocable" : "user_invocable");
        String toolsKey = fm.containsKey("allowed-tools") ? "allowed-tools" : "allowed_tools";
        List<String> tools = translate(h, project, toolsKey, tools(fm, toolsKey), warnings);
        if (doc.instructions().isEmpty()) {
            throw SkillDocument.invalid("the skill document has no instructions after its frontmatter");
        }
        String frontmatter = null;
        if (doc.frontmatter() != null) {
            frontmatter = Json.write(mapper, doc.frontmatter());
            if (frontmatter.getBytes(StandardCharsets.UTF_8).length > MAX_FRONTMATTER_BYTES) {
                throw SkillDocument.tooLarge();
            }
        }
        return new Fields(name, slug, description, doc.instructions(), tools, frontmatter, model, userInvocable);
    }

    /**
     * The document's tools as Mobius tools: kept when the catalogue lists the name or it is a prefix
     * ending in {@code *}, replaced when it has an equivalent, otherwise left out with a warning.
     */
    private List<String> translate(
            Handle h, ProjectRow project, String key, List<String> tools, List<SkillImportWarning> warnings) {
        if (tools.size() > MAX_TOOLS) {
            throw SkillDocument.invalid("frontmatter field " + key + " must list at most " + MAX_TOOLS + " tools");
        }
        LinkedHashSet<String> out = new LinkedHashSet<>();
        for (String tool : tools) {
            boolean keep = Grants.isToolName(tool)
                    && (tool.endsWith("*")
                            || catalog.find(h, project.id(), tool).isPresent());
            if (keep) {
                out.add(tool);
            } else if (EQUIVALENTS.containsKey(tool.toLowerCase(Locale.ROOT))) {
                out.add(EQUIVALENTS.get(tool.toLowerCase(Locale.ROOT)));
            } else {
                warnings.add(new SkillImportWarning()
                        .code("unmapped_tool")
                        .message(tool + " has no Mobius equivalent; it is left out of allowed_tools")
                        .tool(tool));
            }
        }
        return List.copyOf(out);
    }

    private static String string(Map<String, Object> fm, String key) {
        Object v = fm.get(key);
        if (v == null || v instanceof String) {
            return (String) v;
        }
        throw SkillDocument.invalid("frontmatter field " + key + " must be a string");
    }

    private static Boolean flag(Map<String, Object> fm, String key) {
        Object v = fm.get(key);
        if (v == null || v instanceof Boolean) {
            return (Boolean) v;
        }
        throw SkillDocument.invalid("frontmatter field " + key + " must be true or false");
    }

    /** A list of strings, or one string of tools separated by commas or spaces outside parentheses. */
    private static List<String> tools(Map<String, Object> fm, String key) {
        Object v = fm.get(key);
        List<String> out = new ArrayList<>();
        if (v == null) {
            return out;
        }
        if (v instanceof String s) {
            StringBuilder tool = new StringBuilder();
            int depth = 0;
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                if (c == '(') {
                    depth++;
                } else if (c == ')' && depth > 0) {
                    depth--;
                }
                if (depth == 0 && (c == ',' || Character.isWhitespace(c))) {
                    addTool(out, tool);
                } else {
                    tool.append(c);
                }
            }
            addTool(out, tool);
            return out;
        }
        if (v instanceof List<?> list) {
            for (Object item : list) {
                if (!(item instanceof String s)) {
                    throw SkillDocument.invalid("frontmatter field " + key + " must be a string or a list of strings");
                }
                if (!s.isBlank()) {
                    out.add(s.strip());
                }
            }
            return out;
        }
        throw SkillDocument.invalid("frontmatter field " + key + " must be a string or a list of strings");
    }

    private static void addTool(List<String> out, StringBuilder tool) {
        if (!tool.isEmpty()) {
            out.add(tool.toString());
            tool.setLength(0);
        }
    }

    // ---- writing ------------------------------------------------------------------------------

    private SkillRow insert(Handle h, Caller caller, ProjectRow project, String source, Fields fields) {
        SkillDao dao = Daos.of(h, SkillDao.class);
        checkUnique(dao, project, fields, "");
        OffsetDateTime now = Times.now();
        SkillRow row = row(
                ids.next("skl"),
                project,
                source,
                "active",
                fields,
                caller.principalId(),
                caller.principalId(),
                now,
                now);
        dao.insert(row);
        audit.created(h, caller, project.id(), TYPE, row.id(), row.name(), summary(row));
        return row;
    }

    private static SkillRow row(
            String id,
            ProjectRow project,
            String source,
            String status,
            Fields f,
            String createdBy,
            String updatedBy,
            OffsetDateTime createdAt,
            OffsetDateTime updatedAt) {
        return new SkillRow(
                id,
                project.orgId(),
                project.id(),
                source,
                status,
                f.name(),
                f.slug(),
                f.description(),
                f.instructions(),
                f.allowedTools().toArray(new String[0]),
                f.frontmatter(),
                f.modelHint(),
                f.userInvocable(),
                createdBy,
                updatedBy,
                createdAt,
                updatedAt);
    }

    private static void checkUnique(SkillDao dao, ProjectRow project, Fields fields, String exceptId) {
        dev.mobius.server.toolkits.CatalogueItems.requireUnique(
                TYPE,
                fields.name(),
                dao.nameTaken(project.id(), fields.name(), exceptId),
                fields.slug(),
                dao.slugTaken(project.id(), fields.slug(), exceptId));
    }

    private static SkillRow writable(Optional<SkillRow> found, String id) {
        SkillRow row = found.orElseThrow(() -> notFound(id));
        if (row.system()) {
            throw ApiException.forbidden("system_item_read_only", "system skill \"" + row.id() + "\" is read-only");
        }
        return row;
    }

    // ---- views --------------------------------------------------------------------------------

    public Skill view(SkillRow row, ProjectRow project) {
        return new Skill()
                .id(row.id())
                .orgId(project.orgId())
                .projectId(row.projectId() == null ? "" : row.projectId())
                .name(row.name())
                .slug(row.slug())
                .description(row.description())
                .source(Skill.SourceEnum.fromValue(row.source()))
                .status(Skill.StatusEnum.fromValue(row.status()))
                .instructions(row.instructions())
                .allowedTools(List.of(row.allowedTools()))
                .frontmatter(Json.readObject(mapper, row.frontmatter()))
                .modelHint(row.modelHint())
                .userInvocable(row.userInvocable())
                .createdBy(row.createdBy())
                .updatedBy(row.updatedBy())
                .createdAt(row.createdAt())
                .updatedAt(row.updatedAt());
    }

    private ImportedSkill importedView(SkillRow row, ProjectRow project, List<SkillImportWarning> warnings) {
        return new ImportedSkill()
                .id(row.id())
                .orgId(project.orgId())
                .projectId(row.projectId())
                .name(row.name())
                .slug(row.slug())
                .description(row.description())
                .source(ImportedSkill.SourceEnum.fromValue(row.source()))
                .status(ImportedSkill.StatusEnum.fromValue(row.status()))
                .instructions(row.instructions())
                .allowedTools(List.of(row.allowedTools()))
                .frontmatter(Json.readObject(mapper, row.frontmatter()))
                .modelHint(row.modelHint())
                .userInvocable(row.userInvocable())
                .createdBy(row.createdBy())
                .updatedBy(row.updatedBy())
                .createdAt(row.createdAt())
                .updatedAt(row.updatedAt())
                .warnings(warnings);
    }

    /** What the audit trail records: the fields people read, the instructions as a digest. */
    private static Map<String, Object> summary(SkillRow row) {
        return AuditTrail.summary(
                "name",
                row.name(),
                "slug",
                row.slug(),
                "description",
                row.description(),
                "source",
                row.source(),
                "instructions_sha256",
                sha256(row.instructions()),
                "allowed_tools",
                List.of(row.allowedTools()),
                "model_hint",
                row.modelHint(),
                "user_invocable",
                row.userInvocable());
    }

    private static String sha256(String text) {
        try {
            return HexFormat.of()
                    .formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JVM", e);
        }
    }

    private static ApiException notFound(String id) {
        return ApiException.notFound("skill \"" + id + "\" not found");
    }
}
