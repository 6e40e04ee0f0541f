package dev.mobius.server.mogplex.discovery;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The preset agent templates, in the order they are shown: those shipped with the server
 * ({@code agent-presets.json} beside this class), or those of the JSON file the operator names in
 * {@code MOBIUS_AGENT_PRESETS}, which replaces them.
 */
public final class PresetCatalog {
    private static final Pattern NAME = Pattern.compile("[A-Z0-9][A-Z0-9_-]{0,63}");
    private static final TypeReference<List<AgentPreset>> LIST = new TypeReference<>() {};

    private final Map<String, AgentPreset> byName = new LinkedHashMap<>();

    public PresetCatalog(List<AgentPreset> presets) {
        for (AgentPreset p : presets) {
            if (p.name() == null || !NAME.matcher(p.name()).matches()) {
                throw new IllegalArgumentException(
                        "agent preset names are 1-64 of A-Z, 0-9, _ and -, starting with a letter or digit: "
                                + p.name());
            }
            if (p.title() == null || p.title().isBlank() || p.title().length() > 60 || p.model() == null) {
                throw new IllegalArgumentException(
                        "agent preset " + p.name() + " needs a title (at most 60 characters) and a model");
            }
            if (byName.put(p.name(), p) != null) {
                throw new IllegalArgumentException("agent preset " + p.name() + " is defined twice");
            }
        }
    }

    /** The shipped presets, or those of {@code file} when it is set. */
    public static PresetCatalog load(ObjectMapper mapper, String file) {
        try {
            if (file != null && !file.isBlank()) {
                return new PresetCatalog(mapper.readValue(Files.readString(Path.of(file)), LIST));
            }
            try (InputStream in = PresetCatalog.class.getResourceAsStream("agent-presets.json")) {
                if (in == null) {
                    throw new IllegalStateException("agent-presets.json is missing from the server's classpath");
                }
                return new PresetCatalog(mapper.readValue(in, LIST));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("reading the agent presets failed", e);
        }
    }

    public List<AgentPreset> all() {
        return List.copyOf(byName.values());
    }

    public Optional<AgentPreset> find(String name) {
        return Optional.ofNullable(byName.get(name));
    }
}
