package dev.mobius.server.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mobius.server.Api;
import dev.mobius.server.TestServer;
import dev.mobius.server.control.sessions.SetPasswordCommand;
import java.io.BufferedReader;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@code mobius-server set-password} on a stopped server's data, then a login on the restarted one. */
class SetPasswordCommandTest {
    @Test
    void theOperatorSetsAPasswordTheUserSignsInWith() throws Exception {
        Path dir = Files.createTempDirectory("mobius-password-");
        try {
            try (TestServer first = TestServer.start(dir)) {
                assertEquals(
                        200,
                        new Api(first.baseUrl()).get("/api/auth/user", null).status());
            }
            SetPasswordCommand.run(null, dir, "admin", new BufferedReader(new StringReader("a long passphrase\n")));
            assertThrows(
                    IllegalArgumentException.class,
                    () -> SetPasswordCommand.run(
                            null, dir, "nobody", new BufferedReader(new StringReader("whatever1\n"))));
            assertThrows(
                    IllegalArgumentException.class,
                    () -> SetPasswordCommand.run(null, dir, "admin", new BufferedReader(new StringReader("short\n"))));
            try (TestServer second = TestServer.start(dir)) {
                Api api = new Api(second.baseUrl());
                Api.Reply in = api.call(
                        "POST",
                        "/api/auth/login",
                        null,
                        Map.of("username", "admin", "password", "a long passphrase"),
                        Map.of());
                assertEquals(200, in.status(), in.toString());
                assertTrue(in.header("Set-Cookie").startsWith("mobius_session="));
                String hash = second.server()
                        .database()
                        .jdbi()
                        .withHandle(h -> h.createQuery("SELECT hash FROM user_passwords")
                                .mapTo(String.class)
                                .one());
                assertTrue(hash.startsWith("$argon2id$v=19$m=19456,t=2,p=1$"), hash);
            }
        } finally {
            TestServer.deleteTree(dir);
        }
    }
}
