package dev.mobius.server.runs;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mobius.api.model.AutomationSpec;
import dev.mobius.server.automations.AutomationDao;
import dev.mobius.server.automations.VersionRow;
import dev.mobius.server.db.Daos;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.jdbi.v3.core.Handle;

/**
 * Parsed specs of automation versions. A version never changes once created, so a parsed spec
 * can be kept and shared by every run of it, on every node, without invalidation.
 */
public final class Specs {
    private static final int MAX_ENTRIES = 2000;

    private final ObjectMapper mapper;
    private final Map<String, AutomationSpec> byVersionId = new ConcurrentHashMap<>();
    private final Map<String, VersionRow> byNumber = new ConcurrentHashMap<>();
    /** Graphs by version id; versions without one map to {@link #NO_GRAPH}. */
    private final Map<String, Object> graphs = new ConcurrentHashMap<>();

    private static final Object NO_GRAPH = new Object();

    public Specs(ObjectMapper mapper) {
        this.mapper = mapper;
    }

    /** Version {@code number} of the automation (its row, spec included). */
    public VersionRow version(Handle h, String automationId, int number) {
        String key = automationId + "/" + number;
        VersionRow version = byNumber.get(key);
        if (version == null) {
            version = Daos.of(h, AutomationDao.class)
                    .version(automationId, number)
                    .orElseThrow();
            if (byNumber.size() >= MAX_ENTRIES) {
                byNumber.clear();
            }
            byNumber.put(key, version);
        }
        return version;
    }

    public AutomationSpec of(Handle h, String versionId) {
        AutomationSpec spec = byVersionId.get(versionId);
        if (spec == null) {
            spec = Daos.of(h, AutomationDao.class)
                    .versionById(versionId)
                    .orElseThrow()
                    .parsedSpec(mapper);
            if (byVersionId.size() >= MAX_ENTRIES) {
                byVersionId.clear();
            }
            byVersionId.put(versionId, spec);
        }
        return spec;
    }

    /** The graph of a version that runs as a graph, or null for a step list. */
    RunGraph graph(Handle h, String versionId) {
        Object graph = graphs.get(versionId);
        if (graph == null) {
            String text = h.createQuery("SELECT graph::text FROM automation_versions WHERE id = :id")
                    .bind("id", versionId)
                    .mapTo(String.class)
                    .findOne()
                    .orElse(null);
            graph = text == null ? NO_GRAPH : RunGraph.parse(mapper, text);
            if (graphs.size() >= MAX_ENTRIES) {
                graphs.clear();
            }
            graphs.put(versionId, graph);
        }
        return graph == NO_GRAPH ? null : (RunGraph) graph;
    }
}
