package dev.mobius.server.skills;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mobius.server.Api;
import dev.mobius.server.Fixtures;
import dev.mobius.server.SharedServerTest;
import dev.mobius.server.TestServer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** importSkill with real-shaped documents, and with the documents an attacker or a mistake would send. */
class SkillImportTest extends SharedServerTest {
    static final String KEY = TestServer.BOOTSTRAP_KEY;
    static final String P = "/v1/projects/imports";

    @BeforeAll
    static void project() {
        new Fixtures(api, KEY).project("Imports");
    }

    static Api.Reply importing(String content) {
        return api.post(P + "/skills/import", KEY, Map.of("content", content));
    }

    static Api.Reply refused(String content) {
        Api.Reply r = importing(content);
        assertEquals(400, r.status(), r.toString());
        assertEquals("invalid_skill_document", r.errorCode(), r.toString());
        return r;
    }

    static String message(Api.Reply r) {
        return r.json().get("error").get("message").asText();
    }

    @Test
    void aClaudeCodeSkillKeepsItsFrontmatterAndReportsToolsWithoutEquivalent() {
        String doc = String.join(
                "\r\n",
                "---",
                "name: pdf-processing",
                "description: >-",
                "  Extracts text and tables from PDF files, fills forms and merges documents.",
                "  Use when the user mentions PDFs or forms.",
                "allowed-tools: Read, Grep Glob, WebFetch, Bash(python scripts/extract.py:*), WebSearch",
                "model: claude-sonnet-4-5-20250929",
                "user-invocable: false",
                "disable-model-invocation: false",
                "argument-hint: [file]",
                "license: Complete terms in LICENSE.txt",
                "---",
                "",
                "",
                "# PDF processing",
                "",
                "## Quick start",
                "",
                "Use pdfplumber to extract text:",
                "",
                "```python",
                "import pdfplumber",
                "with pdfplumber.open(\"doc.pdf\") as pdf:",
                "    text = pdf.pages[0].extract_text()",
                "```",
                "",
                "");
        Api.Reply r = importing(doc);
        assertEquals(201, r.status(), r.toString());
        JsonNode s = r.json();
        assertEquals("pdf-processing", s.get("name").asText());
        assertEquals("pdf-processing", s.get("slug").asText());
        assertEquals("imported", s.get("source").asText());
        assertEquals(
                "Extracts text and tables from PDF files, fills forms and merges documents. Use when the user mentions"
                        + " PDFs or forms.",
                s.get("description").asText());
        assertEquals(List.of("http.request"), SkillsTest.texts(s.get("allowed_tools")));
        assertEquals("claude-sonnet-4-5-20250929", s.get("model_hint").asText());
        assertFalse(s.get("user_invocable").asBoolean());
        assertTrue(s.get("instructions").asText().startsWith("# PDF processing\n\n## Quick start"));
        assertTrue(s.get("instructions").asText().endsWith("extract_text()\n```"), "trailing whitespace dropped");
        assertFalse(s.get("instructions").asText().contains("\r"), "CRLF read as LF");
        JsonNode fm = s.get("frontmatter");
        assertEquals(List.of("file"), SkillsTest.texts(fm.get("argument-hint")));
        assertFalse(fm.get("disable-model-invocation").asBoolean());
        assertEquals("Complete terms in LICENSE.txt", fm.get("license").asText());
        List<String> unmapped = new ArrayList<>();
        s.get("warnings").forEach(w -> {
            assertEquals("unmapped_tool", w.get("code").asText());
            unmapped.add(w.get("tool").asText());
        });
        assertEquals(List.of("Read", "Grep", "Glob", "Bash(python scripts/extract.py:*)", "WebSearch"), unmapped);

        // The stored skill is the answer without its warnings.
        JsonNode stored = api.get(P + "/skills/" + s.get("id").asText(), KEY).json();
        JsonNode withoutWarnings = s.deepCopy();
        ((com.fasterxml.jackson.databind.node.ObjectNode) withoutWarnings).remove("warnings");
        assertEquals(withoutWarnings, stored);
        assertEquals(
                "create",
                api.get(P + "/audit-logs?resource_id=" + s.get("id").asText(), KEY)
                        .json()
                        .get("items")
                        .get(0)
                        .get("action")
                        .asText());
    }

    @Test
    void aDiveSkillWithAListOfToolsAndANameFromTheBody() {
        String doc = """
                ---
                name: code-reviewer
                description: Review code for best practices and potential issues.
                allowed-tools:
                  - fetch
                  - read_file
                  - log.message
                  - web_fetch
                  - custom-*
                model: inherit
                created: 2025-03-01
                ---

                # Code Reviewer

                You are a code reviewer focused on identifying issues and suggesting improvements.
                """;
        Api.Reply r = api.post(P + "/skills/import", KEY, Map.of("content", doc, "name", "Reviewer"));
        assertEquals(201, r.status(), r.toString());
        JsonNode s = r.json();
        assertEquals("Reviewer", s.get("name").asText());
        assertEquals("reviewer", s.get("slug").asText());
        assertEquals(
                List.of("http.request", "log.message", "custom-*"),
                SkillsTest.texts(s.get("allowed_tools")),
                "fetch and web_fetch both become http.request, once");
        assertNull(s.get("model_hint"), "inherit means no hint");
        assertEquals("2025-03-01", s.get("frontmatter").get("created").asText(), "dates stay as written");
        assertEquals(1, s.get("warnings").size());
        assertEquals("read_file", s.get("warnings").get(0).get("tool").asText());
    }

    @Test
    void aDocumentWithoutFrontmatterNeedsANameAndALongDescriptionIsCut() {
        Api.Reply plain = api.post(P + "/skills/import", KEY, Map.of("content", "Just do it.\n", "name", "Plain"));
        assertEquals(201, plain.status(), plain.toString());
        assertEquals("Just do it.", plain.json().get("instructions").asText());
        assertNull(plain.json().get("frontmatter"));
        assertEquals(0, plain.json().get("warnings").size());
        assertEquals(
                "the skill document has no name; add name to its frontmatter or pass name",
                message(refused("Just do it.")));

        Api.Reply longDescription = importing("---\nname: wordy\ndescription: " + "d".repeat(1024) + "\n---\nGo.");
        assertEquals(201, longDescription.status(), longDescription.toString());
        assertEquals(1000, longDescription.json().get("description").asText().length());
        assertEquals(
                "description_truncated",
                longDescription.json().get("warnings").get(0).get("code").asText());
    }

    @Test
    void malformedFrontmatterIsRefusedWithItsPosition() {
        assertEquals(
                "frontmatter is not valid YAML at line 3, column 17: mapping values are not allowed here",
                message(refused("---\nname: broken\ndescription: one: two\n---\nDo it.\n")));
        assertEquals("frontmatter has no closing --- line", message(refused("---\nname: open\nDo it.\n")));
        assertEquals("frontmatter must be a YAML mapping", message(refused("---\n- a\n- b\n---\nDo it.\n")));
        assertTrue(message(refused("---\nname: a\nname: b\n---\nDo it.\n")).contains("duplicate key name"));
        assertEquals("frontmatter field name must be a string", message(refused("---\nname: [a]\n---\nDo it.\n")));
        assertEquals(
                "frontmatter field user-invocable must be true or false",
                message(refused("---\nname: a\nuser-invocable: sometimes\n---\nDo it.\n")));
        assertEquals(
                "frontmatter field allowed-tools must be a string or a list of strings",
                message(refused("---\nname: a\nallowed-tools: [Read, {x: 1}]\n---\nDo it.\n")));
        assertEquals(
                "the skill document has no instructions after its frontmatter",
                message(refused("---\nname: empty\n---\n\n   \n")));
        assertTrue(message(refused("---\nname: local\nx: !foo bar\n---\nDo it.\n"))
                .contains("could not determine a constructor for the tag !foo"));
    }

    @Test
    void javaTypeTagsAreRefusedAndNothingIsConstructed() {
        String doc = "---\nname: sneaky\nx: !!java.io.File [\"/tmp/mobius-skill-probe\"]\n"
                + "y: !!javax.script.ScriptEngineManager [!!java.net.URLClassLoader [[!!java.net.URL "
                + "[\"http://127.0.0.1:9/\"]]]]\n---\nHello.\n";
        String msg = message(refused(doc));
        assertTrue(msg.startsWith("frontmatter is not valid YAML at line 3, column 4: "), msg);
        assertTrue(msg.contains("tag:yaml.org,2002:java.io.File"), msg);
        assertEquals(
                0,
                api
                        .get(P + "/skills?include_system=false&status=all", KEY)
                        .json()
                        .get("items")
                        .findValues("name")
                        .stream()
                        .filter(n -> n.asText().equals("sneaky"))
                        .count());
    }

    @Test
    void aBillionLaughsFrontmatterFailsFast() {
        StringBuilder bomb = new StringBuilder("---\nname: lol\n");
        bomb.append("a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
        String previous = "a";
        for (char c = 'b'; c <= 'i'; c++) {
            bomb.append(c).append(": &").append(c).append(" [");
            for (int i = 0; i < 9; i++) {
                bomb.append(i == 0 ? "" : ",").append('*').append(previous);
            }
            bomb.append("]\n");
            previous = String.valueOf(c);
        }
        bomb.append("---\nLaugh.\n");
        long start = System.nanoTime();
        String msg = message(refused(bomb.toString()));
        assertTrue(msg.contains("Number of aliases for non-scalar nodes exceeds the specified max=20"), msg);
        assertTrue((System.nanoTime() - start) / 1_000_000 < 5_000, "refused quickly");

        // Few aliases, but each one large: the expansion is bounded too.
        StringBuilder wide = new StringBuilder("---\nname: wide\nbase: &b [");
        for (int i = 0; i < 2000; i++) {
            wide.append(i == 0 ? "" : ",").append("x").append(i);
        }
        wide.append("]\nmany: [");
        for (int i = 0; i < 19; i++) {
            wide.append(i == 0 ? "" : ",").append("*b");
        }
        wide.append("]\n---\nGo.\n");
        assertEquals("frontmatter is larger than 65536 bytes as JSON", message(refused(wide.toString())));

        assertEquals(
                "frontmatter is larger than 65536 bytes as JSON",
                message(refused("---\nname: loop\nself: &s [*s]\n---\nGo.\n")),
                "a recursive alias cannot loop");
    }

    @Test
    void oversizedDocumentsAreRefusedCleanly() {
        String twoMegabytes = "---\nname: huge\n---\n" + "x".repeat(2 * 1024 * 1024);
        Api.Reply huge = importing(twoMegabytes);
        assertEquals(413, huge.status(), huge.toString());
        assertEquals("payload_too_large", huge.errorCode());

        Api.Reply large = importing("---\nname: large\n---\n" + "x".repeat(300 * 1024));
        assertEquals(400, large.status(), large.toString());
        assertEquals("validation_failed", large.errorCode());
        assertEquals(
                "content",
                large.json()
                        .get("error")
                        .get("details")
                        .get("fields")
                        .get(0)
                        .get("field")
                        .asText());
        assertEquals(
                "must be at most 262144 bytes",
                large.json()
                        .get("error")
                        .get("details")
                        .get("fields")
                        .get(0)
                        .get("reason")
                        .asText());

        String bigFrontmatter = "---\nname: big\nblob: " + "y".repeat(70_000) + "\n---\nGo.\n";
        assertEquals("frontmatter is larger than 65536 characters", message(refused(bigFrontmatter)));
        Api.Reply longName = api.post(P + "/skills/import", KEY, Map.of("content", "Go.", "name", "n".repeat(81)));
        assertEquals(400, longName.status());
        assertEquals("validation_failed", longName.errorCode());
    }

    @Test
    void theSameDocumentTwiceIsANameConflictUnlessRenamed() {
        String doc = "---\nname: twice\n---\nTwice.\n";
        assertEquals(201, importing(doc).status());
        Api.Reply again = importing(doc);
        assertEquals(409, again.status());
        assertEquals("skill_name_taken", again.errorCode());
        assertEquals(
                201,
                api.post(P + "/skills/import", KEY, Map.of("content", doc, "name", "Twice 2"))
                        .status());
    }
}
