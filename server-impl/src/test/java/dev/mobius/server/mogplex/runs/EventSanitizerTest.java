package dev.mobius.server.mogplex.runs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

class EventSanitizerTest {
    static final ObjectMapper M = new ObjectMapper();
    static final EventSanitizer S = new EventSanitizer(M);

    static JsonNode clean(String json) throws Exception {
        return S.sanitize(M.readTree(json));
    }

    @Test
    void environmentAndCredentialKeysAreRedacted() throws Exception {
        JsonNode out = clean("{\"Runtime_Env\":{\"A\":\"1\"},\"nested\":{\"GitHub-Token\":\"x\",\"ok\":\"y\"},"
                + "\"apiKey\":\"k\",\"x_access_token\":\"t\",\"Cookie\":\"c\",\"sessionId\":\"s\",\"plain\":1}");
        assertEquals("[redacted]", out.get("Runtime_Env").asText());
        assertEquals("[redacted]", out.get("nested").get("GitHub-Token").asText());
        assertEquals("y", out.get("nested").get("ok").asText());
        assertEquals("[redacted]", out.get("apiKey").asText());
        assertEquals("[redacted]", out.get("x_access_token").asText());
        assertEquals("[redacted]", out.get("Cookie").asText());
        assertEquals("[redacted]", out.get("sessionId").asText());
        assertEquals(1, out.get("plain").asInt());
    }

    @Test
    void secretsInsideStringsAreCutOut() throws Exception {
        JsonNode out = clean(
                "{\"a\":\"curl -H 'Authorization: Bearer abc.def' x\",\"b\":\"https://x-access-token:zzz@github.com/a/b\","
                        + "\"c\":\"ghp_1234567890abcdef and github_pat_11AA_bb and sk-abcdefgh12 and sb_secret_q1\",\"d\":\"sk-short\"}");
        assertEquals(
                "curl -H 'Authorization: Bearer [redacted]' x", out.get("a").asText());
        assertEquals(
                "https://x-access-token:[redacted]@github.com/a/b", out.get("b").asText());
        assertEquals(
                "[redacted] and [redacted] and [redacted] and [redacted]",
                out.get("c").asText());
        assertEquals("sk-short", out.get("d").asText());
    }

    @Test
    void jsonInStringsLongStringsCollectionsAndDepth() throws Exception {
        JsonNode out = clean("{\"j\":\"{\\\"password\\\":\\\"p\\\",\\\"v\\\":1}\",\"long\":\"" + "x".repeat(2500)
                + "\"," + "\"arr\":[" + "1,".repeat(30) + "1],\"deep\":{\"l1\":{\"l2\":{\"l3\":1}}}}");
        assertEquals("{\"password\":\"[redacted]\",\"v\":1}", out.get("j").asText());
        assertEquals(
                2000 + "\n...[truncated 500 chars]".length(),
                out.get("long").asText().length());
        assertTrue(out.get("long").asText().endsWith("\n...[truncated 500 chars]"));
        assertEquals(25, out.get("arr").size());
        assertEquals("[truncated]", out.get("deep").get("l1").get("l2").asText());
    }

    @Test
    void aHugePayloadBecomesAPreview() throws Exception {
        StringBuilder b = new StringBuilder("{");
        for (int i = 0; i < 20; i++) {
            b.append("\"k").append(i).append("\":\"").append("y".repeat(1900)).append("\",");
        }
        b.append("\"end\":1}");
        JsonNode out = clean(b.toString());
        assertTrue(out.get("truncated").asBoolean());
        assertEquals(20_000, out.get("payloadPreview").asText().length());
        assertFalse(out.has("k0"));
    }
}
