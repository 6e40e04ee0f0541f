package dev.mobius.server.runs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What instant graph nodes compute: paths into the run view, condition operators, templates, transforms. */
class GraphValuesTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final Map<String, Object> INPUTS = Map.of("repo_full_name", "acme/app", "label", "bug", "count", 3);

    static Map<String, Object> context() {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("outputs", Map.of("review", Map.of("files", List.of("a.md", "src/b.java"), "score", "7")));
        c.put("outputs_by_label", Map.of("Review", Map.of("ok", true)));
        c.put("previous_outputs", Map.of("x", 1));
        c.put("state", Map.of("pr", 12, "tags", List.of("a", "b")));
        return c;
    }

    static Map<String, Object> view() {
        return GraphValues.view(INPUTS, context());
    }

    @Test
    void pathsReadEveryRootAndBareNamesReadStateThenMetadata() {
        assertEquals("acme/app", GraphValues.at(view(), "repo.full_name"));
        assertEquals("bug", GraphValues.at(view(), "metadata.label"));
        assertEquals("src/b.java", GraphValues.at(view(), "outputs.review.files.1"));
        assertEquals(true, GraphValues.at(view(), "outputs_by_label.Review.ok"));
        assertEquals(1, GraphValues.at(view(), "previous_outputs.x"));
        assertEquals(12, GraphValues.at(view(), "pr"));
        assertEquals("bug", GraphValues.at(view(), "label"));
        assertNull(GraphValues.at(view(), "outputs.nothing.here"));
    }

    @Test
    void everyConditionOperator() {
        assertTrue(GraphValues.rule("x", "exists", ""));
        assertFalse(GraphValues.rule(null, "exists", ""));
        assertTrue(GraphValues.rule(3, "equals", "3.0"));
        assertTrue(GraphValues.rule("bug", "not_equals", "feature"));
        assertTrue(GraphValues.rule(List.of("a", "b"), "contains", "b"));
        assertTrue(GraphValues.rule("hello world", "contains", "lo w"));
        assertTrue(GraphValues.rule("hello", "not_contains", "z"));
        assertTrue(GraphValues.rule("release/1", "starts_with", "release/"));
        assertTrue(GraphValues.rule("a.md", "ends_with", ".md"));
        assertTrue(GraphValues.rule("7", "greater_than", "5"));
        assertFalse(GraphValues.rule("seven", "greater_than", "5"));
        assertTrue(GraphValues.rule(2, "less_than", "2.5"));
        assertTrue(GraphValues.rule("b", "in", "a, b, c"));
        assertTrue(GraphValues.rule("d", "not_in", "a,b"));
        assertTrue(GraphValues.rule(List.of(), "is_empty", ""));
        assertTrue(GraphValues.rule("", "is_empty", ""));
        assertTrue(GraphValues.rule(Map.of("k", 1), "is_not_empty", ""));
        assertFalse(GraphValues.rule("x", "no_such_operator", ""));
    }

    @Test
    void allAndAnyModes() {
        Map<String, Object> bug = Map.of("field", "metadata.label", "operator", "equals", "value", "bug");
        Map<String, Object> many = Map.of("field", "metadata.count", "operator", "greater_than", "value", "5");
        assertFalse(GraphValues.condition(Map.of("mode", "all", "rules", List.of(bug, many)), view()));
        assertTrue(GraphValues.condition(Map.of("mode", "any", "rules", List.of(bug, many)), view()));
        assertTrue(GraphValues.condition(Map.of("rules", List.of(bug)), view()));
    }

    @Test
    void templatesAreMustacheOrTheEnginesOwn() {
        assertEquals(
                "PR 12 of acme/app",
                GraphValues.render("PR {{ pr }} of {{ repo.full_name }}", INPUTS, context(), JSON));
        assertEquals(12, GraphValues.render("{{ state.pr }}", INPUTS, context(), JSON));
        assertEquals("missing: ", GraphValues.render("missing: {{ nothing.here }}", INPUTS, context(), JSON));
        assertEquals("bug!", GraphValues.render("{{ .inputs.label }}!", INPUTS, context(), JSON));
        assertEquals(List.of("a", "b"), GraphValues.render(" {{ state.tags }} ", INPUTS, context(), JSON));
        assertEquals("tags: [\"a\",\"b\"]", GraphValues.render("tags: {{ state.tags }}", INPUTS, context(), JSON));
    }

    @Test
    void theNineTransformOperations() {
        assertEquals(Map.of("a", 1), GraphValues.transform("copy", Map.of("a", 1), null));
        assertEquals(true, GraphValues.transform("string_contains", "fix: typo", "fix"));
        assertEquals(List.of("a", "b"), GraphValues.transform("string_split", "a, b,", ","));
        assertEquals("a|b", GraphValues.transform("array_join", List.of("a", "b"), "|"));
        assertEquals(2, GraphValues.transform("array_length", List.of("a", "b"), null));
        assertEquals(true, GraphValues.transform("array_includes", List.of("a", "b"), "b"));
        assertEquals(true, GraphValues.transform("files_match_glob", List.of("src/a.java", "docs/x/y.md"), "docs/**"));
        assertEquals(
                false, GraphValues.transform("files_match_glob", List.of(Map.of("filename", "src/a.java")), "*.md"));
        assertEquals(true, GraphValues.transform("cast_boolean", "yes", null));
        assertEquals(false, GraphValues.transform("cast_boolean", "no", null));
        assertEquals(7L, GraphValues.transform("cast_number", "7", null));
        assertEquals(2.5, GraphValues.transform("cast_number", "2.5", null));
        assertThrows(GraphValues.ValueException.class, () -> GraphValues.transform("cast_number", "many", null));
        assertThrows(GraphValues.ValueException.class, () -> GraphValues.transform("explode", "x", null));
    }
}
