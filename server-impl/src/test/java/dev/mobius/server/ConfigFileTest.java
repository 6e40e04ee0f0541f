package dev.mobius.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigFileTest {
    @TempDir
    Path dir;

    private Path file(String yaml) throws IOException {
        Path f = dir.resolve("mobius.yaml");
        Files.writeString(f, yaml);
        return f;
    }

    @Test
    void flagsWinOverEnvironmentWhichWinsOverTheFile() throws IOException {
        Path f = file("port: 9000\nbind: 0.0.0.0\ndata_dir: /srv/mobius\n");
        ConfigFile.Layered fileOnly = ConfigFile.layer(new String[] {"--config", f.toString()}, Map.of());
        ServerConfig config = ServerConfig.from(fileOnly.args(), fileOnly.env());
        assertEquals(9000, config.port());
        assertEquals("0.0.0.0", config.bind());

        ConfigFile.Layered envOver = ConfigFile.layer(new String[] {"--config=" + f}, Map.of("MOBIUS_PORT", "9100"));
        assertEquals(9100, ServerConfig.from(envOver.args(), envOver.env()).port());
        assertEquals("0.0.0.0", ServerConfig.from(envOver.args(), envOver.env()).bind());

        ConfigFile.Layered flagOver = ConfigFile.layer(
                new String[] {"--port", "9200", "--config", f.toString()}, Map.of("MOBIUS_PORT", "9100"));
        assertEquals(9200, ServerConfig.from(flagOver.args(), flagOver.env()).port());
    }

    @Test
    void theFileMayBeNamedByTheEnvironment() throws IOException {
        Path f = file("port: 9300\n");
        ConfigFile.Layered layered = ConfigFile.layer(new String[0], Map.of("MOBIUS_CONFIG", f.toString()));
        assertEquals(9300, ServerConfig.from(layered.args(), layered.env()).port());
    }

    @Test
    void nestedKeysListsAndSpellingsMapToTheEnvironmentNames() throws IOException {
        Path f = file("""
                worker:
                  lease-seconds: 45
                  max_attempts: 7
                rate_limit:
                  key_per_minute: 10
                models: [openai/gpt-4o-mini, acme/small]
                model.endpoint: http://127.0.0.1:9/v1
                """);
        Map<String, String> env = ConfigFile.layer(new String[] {"--config", f.toString()}, Map.of())
                .env();
        assertEquals("45", env.get("MOBIUS_WORKER_LEASE_SECONDS"));
        assertEquals("7", env.get("MOBIUS_WORKER_MAX_ATTEMPTS"));
        assertEquals("10", env.get("MOBIUS_RATE_LIMIT_KEY_PER_MINUTE"));
        assertEquals("openai/gpt-4o-mini,acme/small", env.get("MOBIUS_MODELS"));
        assertEquals("http://127.0.0.1:9/v1", env.get("MOBIUS_MODEL_ENDPOINT"));
    }

    @Test
    void anUnknownKeyIsAnErrorNamingIt() throws IOException {
        Path f = file("port: 9000\nworker:\n  lease_secs: 5\ndatabse_url: postgres://x\n");
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> ConfigFile.layer(new String[] {"--config", f.toString()}, Map.of()));
        assertTrue(e.getMessage().startsWith("unknown settings databse_url, worker_lease_secs in "), e.getMessage());
        assertTrue(e.getMessage().contains("database_url"), "lists the known settings");
    }

    @Test
    void aBrokenFileIsAnErrorNotADefault() throws IOException {
        Path notYaml = file("port: [9000\n");
        assertThrows(
                IllegalArgumentException.class,
                () -> ConfigFile.layer(new String[] {"--config", notYaml.toString()}, Map.of()));
        Path list = file("- port\n");
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> ConfigFile.layer(new String[] {"--config", list.toString()}, Map.of()));
        assertTrue(e.getMessage().contains("must be a mapping"), e.getMessage());
        assertThrows(
                IllegalArgumentException.class,
                () -> ConfigFile.layer(
                        new String[] {"--config", dir.resolve("missing.yaml").toString()}, Map.of()));
        assertThrows(IllegalArgumentException.class, () -> ConfigFile.layer(new String[] {"--config"}, Map.of()));
        Path twice = file("port: 1\nport: 2\n");
        assertThrows(
                IllegalArgumentException.class,
                () -> ConfigFile.layer(new String[] {"--config", twice.toString()}, Map.of()));
    }

    /** Every MOBIUS_ variable the server reads can also be set in the file (and nothing else can). */
    @Test
    void theFileKnowsEverySettingTheServerReads() throws IOException {
        Pattern literal = Pattern.compile("\"(MOBIUS_[A-Z0-9_]+)\"");
        Set<String> read = new TreeSet<>();
        try (Stream<Path> sources = Files.walk(Path.of("src/main/java"))) {
            for (Path source :
                    sources.filter(p -> p.toString().endsWith(".java")).toList()) {
                Matcher m = literal.matcher(Files.readString(source));
                while (m.find()) {
                    read.add(m.group(1));
                }
            }
        }
        read.remove("MOBIUS_CONFIG");
        Set<String> missing = new TreeSet<>(read);
        missing.removeAll(ConfigFile.SETTINGS);
        assertEquals(Set.of(), missing, "settings the server reads that the file cannot set");
        Set<String> stale = new TreeSet<>(ConfigFile.SETTINGS);
        stale.removeAll(read);
        assertEquals(Set.of(), stale, "settings the file accepts that the server no longer reads");
    }
}
