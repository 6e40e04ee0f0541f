package dev.mobius.server.tables;

import static dev.mobius.server.tables.TableCalls.col;
import static dev.mobius.server.tables.TableCalls.expectError;
import static dev.mobius.server.tables.TableCalls.map;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mobius.server.Api;
import dev.mobius.server.Fixtures;
import dev.mobius.server.SharedServerTest;
import dev.mobius.server.TestServer;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Keyword search over rows: ranking, stemming, filters, cursors, and any input answered without a server error. */
class SearchTest extends SharedServerTest {
    static TableCalls t;

    @BeforeAll
    static void project() {
        Fixtures fx = new Fixtures(api, TestServer.BOOTSTRAP_KEY);
        String project = fx.project("Tables Search");
        t = new TableCalls(api, project, fx.key(project, "searcher").raw());
        t.createTable(
                "notes",
                List.of(
                        col("label", "string"),
                        col("title", "string"),
                        col("body", "string"),
                        col("tag", "string", "indexed"),
                        col("n", "number"),
                        col("meta", "object")));
        t.row("notes", map("label", "once", "title", "Shed", "body", "a wooden garden shed", "tag", "home"));
        t.row("notes", map("label", "twice", "title", "Garden", "body", "tools for the garden", "tag", "home"));
        t.row("notes", map("label", "elsewhere", "title", "Garden", "body", "the garden of the office", "tag", "work"));
        t.row("notes", map("label", "runner", "title", "Morning", "body", "she runs every morning", "tag", "home"));
        t.row(
                "notes",
                map("label", "nested", "title", "Trip", "meta", map("city", "Lisbon", "stops", List.of("Porto"))));
        t.row("notes", map("label", "numeric", "title", "Counter", "n", 12345));
    }

    static List<String> labels(Api.Reply r) {
        assertEquals(200, r.status(), r.toString());
        List<String> out = new ArrayList<>();
        r.json().get("items").forEach(i -> out.add(i.get("data").get("label").asText()));
        return out;
    }

    static Api.Reply search(String query) {
        return t.search("notes", map("query", query));
    }

    @Test
    void moreMatchesRankHigher() {
        List<String> garden = labels(t.search("notes", map("query", "garden", "filter", map("tag", "home"))));
        assertEquals(List.of("twice", "once"), garden, "two matches in two columns rank above one");
        List<String> all = labels(search("garden"));
        assertEquals(3, all.size(), all.toString());
        assertEquals("once", all.get(2), "the single match ranks last: " + all);
    }

    @Test
    void wordsAreStemmedAndOnlyStringsAnywhereInTheRowAreSearched() {
        assertEquals(List.of("runner"), labels(search("running")));
        assertEquals(List.of("runner"), labels(search("RUN")));
        assertEquals(List.of("nested"), labels(search("lisbon")), "strings inside objects are searched");
        assertEquals(List.of("nested"), labels(search("porto")), "and inside arrays");
        assertEquals(List.of(), labels(search("12345")), "numbers are not text");
        assertEquals(
                List.of("twice", "elsewhere"),
                labels(search("garden -shed")).stream()
                        .sorted(java.util.Comparator.reverseOrder())
                        .toList());
        assertEquals(
                List.of("runner", "nested").stream().sorted().toList(),
                labels(search("morning or lisbon")).stream().sorted().toList());
        assertEquals(List.of("elsewhere"), labels(search("\"garden of the office\"")));
    }

    @Test
    void theFilterApplies() {
        assertEquals(
                List.of("elsewhere"), labels(t.search("notes", map("query", "garden", "filter", map("tag", "work")))));
        assertEquals(
                List.of(),
                labels(t.search("notes", map("query", "garden", "filter", map("tag", map("$in", List.of("none")))))));
        Api.Reply bad = t.search("notes", map("query", "garden", "filter", map("nope", 1)));
        expectError(bad, 400, "invalid_filter");
    }

    @Test
    void pagesFollowTheRankingWithoutRepeats() {
        List<Map<String, Object>> rows = new ArrayList<>();
        for (int i = 0; i < 60; i++) {
            String body = "apple " + "pear ".repeat(i % 4) + (i % 3 == 0 ? "apple apple" : i % 3 == 1 ? "apple" : "");
            rows.add(map("label", "fruit" + i, "body", body, "tag", i % 2 == 0 ? "even" : "odd"));
        }
        assertEquals(201, t.bulk("notes", rows).status());
        Api.Reply once = t.search("notes", map("query", "apple", "limit", 1000));
        List<String> whole = TableCalls.ids(listOf(once.json().get("items")));
        assertEquals(60, whole.size());
        for (int limit : new int[] {1, 4, 7, 60}) {
            List<String> walked = TableCalls.ids(t.walk("notes", "search", map("query", "apple", "limit", limit), 100));
            assertEquals(whole, walked, "limit " + limit);
        }
        List<String> even = TableCalls.ids(
                t.walk("notes", "search", map("query", "apple", "filter", map("tag", "even"), "limit", 4), 100));
        assertEquals(30, even.size());
        assertEquals(30, new HashSet<>(even).size());
        assertEquals(whole.stream().filter(even::contains).toList(), even, "the filter keeps the ranking");

        Api.Reply first = t.search("notes", map("query", "apple", "limit", 5));
        String cursor = first.json().get("next_cursor").asText();
        expectError(t.search("notes", map("query", "pear", "limit", 5, "cursor", cursor)), 400, "invalid_cursor");
        expectError(t.query("notes", map("cursor", cursor)), 400, "invalid_cursor");
    }

    static List<JsonNode> listOf(JsonNode array) {
        List<JsonNode> out = new ArrayList<>();
        array.forEach(out::add);
        return out;
    }

    @Test
    void anyInputIsAnsweredWithoutAServerError() {
        for (String q : List.of(
                "\"unclosed",
                "a & b | !c",
                ":*",
                "'",
                "--",
                "()",
                "or",
                "-",
                "\"\"",
                "!",
                "a:*",
                "garden:*",
                "\\",
                "%",
                "~*&|!<->",
                "or or or",
                "-garden")) {
            Api.Reply r = search(q);
            assertEquals(200, r.status(), q + ": " + r);
        }
        for (String q : List.of("the and of", ":*", "'", "--", "()", "or", "!", "\"\"")) {
            assertEquals(List.of(), labels(search(q)), q + " holds no searchable word");
        }
        assertEquals(200, search("garden " + "x".repeat(993)).status(), "1000 characters");
        Api.Reply tooLong = search("g".repeat(1001));
        expectError(tooLong, 400, "validation_failed");
        assertEquals(
                "query",
                TableCalls.details(tooLong).get("fields").get(0).get("field").asText());
        expectError(search(""), 400, "validation_failed");
        assertTrue(labels(search("garden")).contains("twice"));
    }
}
