package dev.mobius.server.mogplex.sandboxes;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mobius.server.mogplex.ListLimit;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class CheckoutRulesTest {
    @Test
    void branchNames() {
        for (String ok : List.of("main", "feature/x-1", "release/1.2.3", "a_b", "mogplex/external/0a1b2c3d-deadbeef")) {
            assertTrue(CheckoutRules.validBranch(ok), ok);
        }
        for (String bad : List.of(
                "", "@", "HEAD", "/a", "a/", "a.", "a.lock", "a..b", "a//b", "a@{1}", "a b", "a*", "a:b", "a?", "a[",
                "a\\b", "a^", "a~", "é", "a\tb")) {
            assertFalse(CheckoutRules.validBranch(bad), bad);
        }
    }

    @Test
    void rootDirectoriesAreNormalizedOrRefused() {
        assertEquals(Optional.of(new CheckoutRules.RootDirectory(null)), CheckoutRules.rootDirectory(null));
        for (String root : List.of("", ".", "/", "./", "  /  ", "//")) {
            assertEquals(Optional.of(new CheckoutRules.RootDirectory(null)), CheckoutRules.rootDirectory(root), root);
        }
        assertEquals(
                "apps/web",
                CheckoutRules.rootDirectory("/apps/web").orElseThrow().path());
        assertEquals(
                "apps/web",
                CheckoutRules.rootDirectory("./apps//web/").orElseThrow().path());
        assertEquals(
                "apps/web",
                CheckoutRules.rootDirectory(" apps/web ").orElseThrow().path());
        for (String bad : List.of("..", "../x", "apps/../..", "a/..", "%2e%2e/x", "a/%2E", "x\0y", "a/%2e%2E/b")) {
            assertTrue(CheckoutRules.rootDirectory(bad).isEmpty(), bad);
        }
    }

    @Test
    void listLimitsNeverFail() {
        assertEquals(100, ListLimit.parse(null, 100, 200));
        assertEquals(100, ListLimit.parse("", 100, 200));
        assertEquals(100, ListLimit.parse("abc", 100, 200));
        assertEquals(10, ListLimit.parse("10abc", 100, 200));
        assertEquals(1, ListLimit.parse("0", 100, 200));
        assertEquals(1, ListLimit.parse("-5", 100, 200));
        assertEquals(200, ListLimit.parse("999999999999", 100, 200));
    }
}
