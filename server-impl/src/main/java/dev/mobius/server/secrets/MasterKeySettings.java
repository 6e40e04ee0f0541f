package dev.mobius.server.secrets;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Where the master key comes from, as the operator configured it (resolved into keys by
 * {@link MasterKeys#load}).
 *
 * @param key base64 of the 32-byte master key ({@code MOBIUS_MASTER_KEY}), or null
 * @param keyFile a file holding that base64 ({@code MOBIUS_MASTER_KEY_FILE}), or null
 * @param previous keys accepted for reading only, while a rotation is under way
 *     ({@code MOBIUS_MASTER_KEY_PREVIOUS}, comma-separated)
 */
public record MasterKeySettings(String key, Path keyFile, List<String> previous) {
    /** Nothing configured: the embedded default keeps its key in a file of the data directory. */
    public static final MasterKeySettings DEFAULTS = new MasterKeySettings(null, null, List.of());

    /** The file under the data directory that holds the key of the embedded default. */
    public static final String DATA_DIR_FILE = "master-key";

    public MasterKeySettings {
        previous = List.copyOf(previous);
    }

    public static MasterKeySettings from(Map<String, String> env) {
        String key = blankToNull(env.get("MOBIUS_MASTER_KEY"));
        String file = blankToNull(env.get("MOBIUS_MASTER_KEY_FILE"));
        List<String> previous = new ArrayList<>();
        String prev = env.get("MOBIUS_MASTER_KEY_PREVIOUS");
        if (prev != null) {
            for (String part : prev.split(",")) {
                if (!part.isBlank()) {
                    previous.add(part.trim());
                }
            }
        }
        return new MasterKeySettings(key, file == null ? null : Path.of(file), previous);
    }

    public MasterKeySettings withKey(String base64) {
        return new MasterKeySettings(base64, null, previous);
    }

    public MasterKeySettings withPrevious(List<String> base64Keys) {
        return new MasterKeySettings(key, keyFile, base64Keys);
    }

    private static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s.trim();
    }

    /** Never prints a key: the configuration may be logged. */
    @Override
    public String toString() {
        return "MasterKeySettings[key=" + (key == null ? "unset" : "set") + ", keyFile=" + keyFile + ", previous="
                + previous.size() + "]";
    }
}
