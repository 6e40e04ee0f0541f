package dev.mobius.server.mogplex.automations;

import java.time.OffsetDateTime;

/** One immutable published version of a flow, and the engine version it was compiled into. */
public record FlowVersionRow(
        String id, String flowId, int versionNumber, String graph, int automationVersion, OffsetDateTime createdAt) {}
