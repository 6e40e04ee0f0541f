package dev.mobius.openapi.compat;

import static dev.mobius.openapi.compat.Contracts.at;
import static dev.mobius.openapi.compat.Contracts.edited;
import static dev.mobius.openapi.compat.Contracts.pointer;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mobius.openapi.compat.ContractChange.Kind;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The contract keeps the promises of its last release, and the gate that says so notices each kind
 * of break on copies of that release broken on purpose.
 */
class CompatibilityGateTest {
    private static final String PROJECT = pointer("components", "schemas", "Project");
    private static final String CREATE_PROJECT = pointer("components", "schemas", "CreateProjectRequest");
    private static String released;

    @BeforeAll
    static void readRelease() {
        released = ReleasedContracts.latest(Contracts.MODULE).text();
    }

    /** The build's gate: this fails {@code mvn verify} when the contract breaks the last release. */
    @Test
    void theCurrentContractKeepsEveryPromiseOfTheLastRelease() {
        AllowedBreaks allowed = AllowedBreaks.read(Contracts.MODULE.resolve(ReleasedContracts.ALLOWED_FILE));
        CompatibilityGate.Verdict verdict = CompatibilityGate.check(released, Contracts.bundled(), allowed);
        assertTrue(verdict.passes(), verdict.report());
    }

    /** One deliberate break: an edit of the released contract and the line the gate must report. */
    record Break(String name, Consumer<ObjectNode> edit, Kind kind, String operationId, String location) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Break> breaks() {
        return Stream.of(
                new Break(
                        "removed operation",
                        doc -> at(doc, pointer("paths", "/v1/projects/{id}")).remove("delete"),
                        Kind.REMOVED_OPERATION,
                        "deleteProject",
                        ""),
                new Break(
                        "removed response field",
                        doc -> ((ObjectNode) at(doc, PROJECT).get("properties")).remove("created_by"),
                        Kind.REMOVED_FIELD,
                        "getProject",
                        "response 200 application/json .created_by"),
                new Break(
                        "changed type",
                        doc -> at(doc, PROJECT + "/properties/name").put("type", "integer"),
                        Kind.CHANGED_TYPE,
                        "getProject",
                        "response 200 application/json .name"),
                new Break(
                        "narrowed request field (shorter maximum length)",
                        doc -> at(doc, CREATE_PROJECT + "/properties/name").put("maxLength", 16),
                        Kind.CHANGED_CONSTRAINT,
                        "createProject",
                        "request body application/json .name"),
                new Break(
                        "new required request field",
                        doc -> {
                            ObjectNode schema = at(doc, CREATE_PROJECT);
                            ((ObjectNode) schema.get("properties"))
                                    .putObject("region")
                                    .put("type", "string");
                            ((ArrayNode) schema.get("required")).add("region");
                        },
                        Kind.NEW_REQUIRED_FIELD,
                        "createProject",
                        "request body application/json .region"),
                new Break(
                        "new required parameter",
                        doc -> ((ArrayNode) at(doc, pointer("paths", "/v1/projects", "get"))
                                        .get("parameters"))
                                .addObject()
                                .put("name", "region")
                                .put("in", "query")
                                .put("required", true)
                                .putObject("schema")
                                .put("type", "string"),
                        Kind.NEW_REQUIRED_PARAMETER,
                        "listProjects",
                        "query parameter region"),
                new Break(
                        "removed enum value in a response",
                        doc -> ((ArrayNode) at(doc, pointer("components", "schemas", "ProjectAccessMode"))
                                        .get("enum"))
                                .remove(1),
                        Kind.REMOVED_ENUM_VALUE,
                        "getProject",
                        "response 200 application/json .access_mode"),
                new Break(
                        "removed status code",
                        doc -> at(doc, pointer("paths", "/v1/projects/{id}", "get", "responses"))
                                .remove("404"),
                        Kind.REMOVED_STATUS_CODE,
                        "getProject",
                        "response 404"),
                new Break(
                        "changed status code",
                        doc -> {
                            ObjectNode responses = at(doc, pointer("paths", "/v1/projects", "post", "responses"));
                            responses.set("200", responses.remove("201"));
                        },
                        Kind.REMOVED_STATUS_CODE,
                        "createProject",
                        "response 201"),
                new Break(
                        "changed operationId",
                        doc -> at(doc, pointer("paths", "/v1/projects/{id}", "get"))
                                .put("operationId", "readProject"),
                        Kind.CHANGED_OPERATION_ID,
                        "getProject",
                        ""));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("breaks")
    void eachKindOfBreakFailsTheGateWithALineNamingIt(Break broken) {
        CompatibilityGate.Verdict verdict =
                CompatibilityGate.check(released, edited(released, broken.edit()), AllowedBreaks.NONE);

        assertFalse(verdict.passes(), broken.name() + " passed the gate");
        List<ContractChange> found = verdict.breaks().stream()
                .filter(c -> c.kind() == broken.kind()
                        && c.operationId().equals(broken.operationId())
                        && c.location().equals(broken.location()))
                .toList();
        assertEquals(1, found.size(), broken.name() + ": expected one such line in\n" + verdict.report());
        String report = verdict.report();
        assertTrue(report.contains("  " + found.get(0).line() + "\n"), report);
        assertTrue(
                found.get(0).line().endsWith("[" + broken.kind().slug() + "]"),
                found.get(0).line());
        System.out.println(broken.name() + ":\n" + report);
    }

    @Test
    void additionsAndDeprecationsAreNotBreaks() {
        String grown = edited(released, doc -> {
            ((ObjectNode) at(doc, PROJECT).get("properties"))
                    .putObject("region")
                    .put("type", "string");
            ((ObjectNode) at(doc, CREATE_PROJECT).get("properties"))
                    .putObject("region")
                    .put("type", "string");
            ((ArrayNode) at(doc, pointer("components", "schemas", "ProjectAccessMode"))
                            .get("enum"))
                    .add("sealed");
            at(doc, pointer("paths", "/v1/projects/{id}", "patch")).put("deprecated", true);
            ObjectNode added =
                    at(doc, pointer("paths")).putObject("/v1/regions").putObject("get");
            added.put("operationId", "listRegions").put("summary", "List regions");
            added.putArray("tags").add("projects");
            added.putObject("responses").putObject("204").put("description", "Nothing.");
        });

        CompatibilityGate.Verdict verdict = CompatibilityGate.check(released, grown, AllowedBreaks.NONE);
        assertTrue(verdict.passes(), verdict.report());

        List<ContractChange> changes = ContractDiff.between(released, grown);
        assertTrue(changes.stream().noneMatch(ContractChange::breaking), changes.toString());
        assertTrue(has(changes, Kind.ADDED_OPERATION, "listRegions", ""), changes.toString());
        assertTrue(has(changes, Kind.DEPRECATED_OPERATION, "updateProject", ""), changes.toString());
        assertTrue(
                has(changes, Kind.ADDED_FIELD, "getProject", "response 200 application/json .region"),
                changes.toString());
        assertTrue(
                has(changes, Kind.ADDED_FIELD, "createProject", "request body application/json .region"),
                changes.toString());
        assertTrue(
                has(changes, Kind.ADDED_ENUM_VALUE, "getProject", "response 200 application/json .access_mode"),
                changes.toString());
    }

    @Test
    void aBreakListedWithAReasonPasses() {
        String broken = edited(released, doc -> {
            at(doc, pointer("paths", "/v1/projects/{id}", "get", "responses")).remove("404");
            at(doc, pointer("paths", "/v1/projects/{id}")).remove("delete");
        });
        AllowedBreaks allowed = AllowedBreaks.parse("""
                allowed:
                  - operation: getProject
                    kind: removed-status-code
                    location: response 404
                    reason: Unknown projects answer 403 from now on, as the new access model asks.
                  - path: /v1/projects/{id}
                    method: delete
                    kind: removed-operation
                    reason: Projects are archived, never deleted.
                """);

        CompatibilityGate.Verdict verdict = CompatibilityGate.check(released, broken, allowed);
        assertTrue(verdict.passes(), verdict.report());
        assertEquals(
                List.of("deleteProject removed-operation", "getProject removed-status-code"),
                verdict.allowed().stream()
                        .map(c -> c.operationId() + " " + c.kind().slug())
                        .sorted()
                        .toList());

        // Without the second entry the removed operation is reported again, and only it.
        AllowedBreaks first = new AllowedBreaks(allowed.entries().subList(0, 1));
        CompatibilityGate.Verdict partly = CompatibilityGate.check(released, broken, first);
        assertFalse(partly.passes());
        assertEquals(
                List.of("deleteProject removed-operation"),
                partly.breaks().stream()
                        .map(c -> c.operationId() + " " + c.kind().slug())
                        .toList(),
                partly.report());
    }

    @Test
    void anEntryWithoutAReasonIsRefused() {
        IllegalArgumentException refused = assertThrows(IllegalArgumentException.class, () -> AllowedBreaks.parse("""
                        allowed:
                          - operation: getProject
                            kind: removed-field
                          - operation: getProject
                            kind: removed-field
                            reason: "  "
                        """));
        assertTrue(refused.getMessage().contains("entry 1: has no reason"), refused.getMessage());
        assertTrue(refused.getMessage().contains("entry 2: has no reason"), refused.getMessage());
    }

    @Test
    void entriesThatNameNothingOrAnUnknownKindAreRefused() {
        IllegalArgumentException refused = assertThrows(IllegalArgumentException.class, () -> AllowedBreaks.parse("""
                        allowed:
                          - kind: removed-field
                            reason: because
                          - operation: getProject
                            kind: removed-something
                            reason: because
                            note: extra
                        """));
        assertTrue(
                refused.getMessage().contains("entry 1: names neither an operation nor a path"), refused.getMessage());
        assertTrue(refused.getMessage().contains("entry 2: unknown kind 'removed-something'"), refused.getMessage());
        assertTrue(refused.getMessage().contains("entry 2: unknown key 'note'"), refused.getMessage());
    }

    @Test
    void anEntryThatMatchesNoBreakFailsTheGate() {
        AllowedBreaks stale = AllowedBreaks.parse("""
                allowed:
                  - operation: getProject
                    kind: removed-field
                    reason: Was intended for the last release.
                """);
        CompatibilityGate.Verdict verdict = CompatibilityGate.check(released, released, stale);
        assertFalse(verdict.passes());
        assertTrue(verdict.report().contains("removed-field at getProject"), verdict.report());
    }

    @Test
    void theCommittedAllowedListIsReadable() {
        Path file = Contracts.MODULE.resolve(ReleasedContracts.ALLOWED_FILE);
        AllowedBreaks.read(file);
    }

    private static boolean has(List<ContractChange> changes, Kind kind, String operationId, String location) {
        return changes.stream()
                .anyMatch(c -> c.kind() == kind
                        && c.operationId().equals(operationId)
                        && c.location().equals(location));
    }
}
