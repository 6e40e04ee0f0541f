package dev.mobius.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.Set;

/**
 * The user's settings, {@code $XDG_CONFIG_HOME/mobius/config.json} (else
 * {@code ~/.config/mobius/config.json}): {@code api_url}, {@code api_key}, {@code project}, written
 * by {@code mobius auth login}. It holds a credential, so the file is created with mode 0600 (its
 * folder 0700) before anything is written into it.
 */
public final class ConfigFile {
    private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");
    private static final Set<PosixFilePermission> OWNER_DIR = PosixFilePermissions.fromString("rwx------");
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path path;

    private ConfigFile(Path path) {
        this.path = path;
    }

    public static ConfigFile of(Map<String, String> env) {
        String xdg = env.get("XDG_CONFIG_HOME");
        Path base;
        if (xdg != null && !xdg.isBlank()) {
            base = Path.of(xdg);
        } else {
            String home = env.getOrDefault("HOME", System.getProperty("user.home"));
            base = Path.of(home, ".config");
        }
        return new ConfigFile(base.resolve("mobius").resolve("config.json"));
    }

    public Path path() {
        return path;
    }

    /** The settings saved, or an empty object when there is no file. */
    public ObjectNode read() {
        if (!Files.isRegularFile(path)) {
            return JSON.createObjectNode();
        }
        try {
            return (ObjectNode) JSON.readTree(path.toFile());
        } catch (IOException | ClassCastException e) {
            throw new CliException("config_error", "cannot read " + path + ": " + e.getMessage(), CliException.API);
        }
    }

    /** Replaces the settings; the file is owner-only before the credential reaches it. */
    public void write(ObjectNode settings) {
        try {
            Path dir = path.getParent();
            if (!Files.isDirectory(dir)) {
                Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(OWNER_DIR));
            }
            try {
                Files.createFile(path, PosixFilePermissions.asFileAttribute(OWNER_ONLY));
            } catch (FileAlreadyExistsException e) {
                Files.setPosixFilePermissions(path, OWNER_ONLY);
            }
            byte[] bytes = JSON.writerWithDefaultPrettyPrinter()
                    .writeValueAsString(settings)
                    .concat("\n")
                    .getBytes(StandardCharsets.UTF_8);
            Files.write(path, bytes, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE);
        } catch (IOException e) {
            throw new CliException("config_error", "cannot write " + path + ": " + e.getMessage(), CliException.API);
        }
    }
}
