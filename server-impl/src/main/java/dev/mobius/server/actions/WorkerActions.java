package dev.mobius.server.actions;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.Optional;
import org.jdbi.v3.core.Handle;

/**
 * What the catalogue needs from the worker feature: the action names the project's worker
 * sessions advertise, read from their stored registrations (never from one node's memory).
 */
public interface WorkerActions {
    WorkerActions NONE = new WorkerActions() {
        @Override
        public List<Advertised> advertised(Handle h, String projectId) {
            return List.of();
        }

        @Override
        public Optional<Advertised> advertised(Handle h, String projectId, String name) {
            return Optional.empty();
        }
    };

    /**
     * One advertised name: the input schema the most recently seen session sent for it (null if
     * none did), when a session advertising it was last seen, and whether that was recent enough
     * for the session to count as live (not stale).
     */
    record Advertised(String name, JsonNode inputSchema, OffsetDateTime lastSeenAt, boolean live) {}

    /** Every name advertised by the project's recently seen sessions, by name. */
    List<Advertised> advertised(Handle h, String projectId);

    Optional<Advertised> advertised(Handle h, String projectId, String name);
}
