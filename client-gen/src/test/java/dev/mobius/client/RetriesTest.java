package dev.mobius.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The retry decisions: which answers and requests are retried, and after how long. */
class RetriesTest {
    static final Clock NOW = Clock.fixed(Instant.parse("2026-10-21T07:28:00Z"), ZoneOffset.UTC);

    static HttpHeaders headers(String... nameValues) {
        Map<String, List<String>> map = new java.util.HashMap<>();
        for (int i = 0; i < nameValues.length; i += 2) {
            map.put(nameValues[i], List.of(nameValues[i + 1]));
        }
        return HttpHeaders.of(map, (n, v) -> true);
    }

    static HttpRequest request(String method, String... headers) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:1/v1/projects"))
                .method(method, HttpRequest.BodyPublishers.ofString("{}"));
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return b.build();
    }

    @Test
    void retryAfterIsReadAsSecondsOrAsAnHttpDate() {
        assertEquals(Optional.of(Duration.ofSeconds(2)), Retries.retryAfter(headers("Retry-After", " 2 "), NOW));
        assertEquals(
                Optional.of(Duration.ofSeconds(90)),
                Retries.retryAfter(headers("Retry-After", "Wed, 21 Oct 2026 07:29:30 GMT"), NOW));
        // A date in the past means now.
        assertEquals(
                Optional.of(Duration.ZERO),
                Retries.retryAfter(headers("Retry-After", "Wed, 21 Oct 2026 07:00:00 GMT"), NOW));
        assertEquals(Optional.empty(), Retries.retryAfter(headers("Retry-After", "soon"), NOW));
        assertEquals(Optional.empty(), Retries.retryAfter(headers("Retry-After", "-1"), NOW));
        assertEquals(Optional.empty(), Retries.retryAfter(headers(), NOW));
    }

    @Test
    void only429And503AreRetriedAndTheLastAttemptIsFinal() {
        Retries r = Retries.builder().maxAttempts(3).clock(NOW).build();
        HttpRequest get = request("GET");
        assertEquals(Optional.of(Duration.ofSeconds(3)), r.afterAnswer(get, 1, 429, headers("Retry-After", "3")));
        assertEquals(Optional.of(Duration.ofSeconds(1)), r.afterAnswer(get, 2, 503, headers("Retry-After", "1")));
        assertEquals(Optional.empty(), r.afterAnswer(get, 3, 429, headers("Retry-After", "1")));
        for (int status : new int[] {200, 400, 404, 409, 500, 502, 504}) {
            assertEquals(Optional.empty(), r.afterAnswer(get, 1, status, headers("Retry-After", "1")), "" + status);
        }
    }

    @Test
    void aRetryAfterLongerThanTheCapIsHandedBackInsteadOfRetriedEarly() {
        Retries r = Retries.builder().maxWait(Duration.ofSeconds(10)).clock(NOW).build();
        assertEquals(Optional.empty(), r.afterAnswer(request("GET"), 1, 429, headers("Retry-After", "11")));
        assertEquals(
                Optional.of(Duration.ofSeconds(10)),
                r.afterAnswer(request("GET"), 1, 429, headers("Retry-After", "10")));
    }

    @Test
    void withoutRetryAfterTheWaitDoublesWithJitterUpToTheCap() {
        Retries r = Retries.builder()
                .backoff(Duration.ofMillis(100))
                .maxWait(Duration.ofMillis(700))
                .build();
        for (int i = 0; i < 200; i++) {
            long first = r.backoff(1).toMillis();
            long third = r.backoff(3).toMillis();
            long tenth = r.backoff(10).toMillis();
            assertTrue(first >= 50 && first <= 100, "first " + first);
            assertTrue(third >= 200 && third <= 400, "third " + third);
            assertTrue(tenth >= 350 && tenth <= 700, "capped " + tenth);
        }
        long distinct = java.util.stream.IntStream.range(0, 50)
                .mapToLong(i -> r.backoff(3).toMillis())
                .distinct()
                .count();
        assertTrue(distinct > 1, "the wait is jittered");
    }

    @Test
    void postAndPatchGetOneKeyAndAreRetriedOnlyWithIt() {
        Retries r = Retries.builder().idempotencyKeys(() -> "key-1").clock(NOW).build();
        HttpRequest post = request("POST");
        assertFalse(Retries.replayable(post));
        assertEquals(Optional.empty(), r.afterAnswer(post, 1, 503, headers()));
        assertEquals(Optional.empty(), r.afterFailure(post, 1));

        HttpRequest keyed = r.withKey(post);
        assertEquals(Optional.of("key-1"), keyed.headers().firstValue("Idempotency-Key"));
        assertEquals(post.uri(), keyed.uri());
        assertEquals(
                post.bodyPublisher().get().contentLength(),
                keyed.bodyPublisher().get().contentLength());
        assertTrue(r.afterAnswer(keyed, 1, 503, headers()).isPresent());
        assertTrue(r.afterFailure(keyed, 1).isPresent());

        // The caller's own key is kept; GET, PUT and DELETE get none and are replayable anyway.
        HttpRequest own = request("PATCH", "Idempotency-Key", "mine");
        assertSame(own, r.withKey(own));
        assertEquals(Optional.of("key-1"), r.withKey(request("PATCH")).headers().firstValue("Idempotency-Key"));
        for (String method : List.of("GET", "PUT", "DELETE")) {
            HttpRequest q = request(method);
            assertSame(q, r.withKey(q));
            assertTrue(Retries.replayable(q), method);
        }
    }

    @Test
    void connectionFailuresCanBeLeftToTheCaller() {
        Retries r = Retries.builder().retryConnectionFailures(false).build();
        assertEquals(Optional.empty(), r.afterFailure(request("GET"), 1));
        assertTrue(Retries.defaults().afterFailure(request("GET"), 1).isPresent());
    }
}
