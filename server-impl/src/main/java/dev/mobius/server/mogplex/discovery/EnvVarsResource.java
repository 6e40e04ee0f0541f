package dev.mobius.server.mogplex.discovery;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mobius.mogplex.api.MogplexEnvVarsApi;
import dev.mobius.server.ids.Ids;
import dev.mobius.server.mogplex.MogplexCaller;
import dev.mobius.server.mogplex.MogplexException;
import dev.mobius.server.mogplex.MogplexResponses;
import dev.mobius.server.repositories.RepositoryEnvVars;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.SecurityContext;
import java.util.List;

/**
 * The environment variables of the caller's repositories ({@link RepositoryEnvVars}): listed
 * without values, set and deleted with strict bodies checked before the repository is looked up.
 */
public final class EnvVarsResource implements MogplexEnvVarsApi {
    private final RepositoryEnvVars envVars;
    private final ObjectMapper mapper;

    @Context
    private SecurityContext security;

    public EnvVarsResource(RepositoryEnvVars envVars, ObjectMapper mapper) {
        this.envVars = envVars;
        this.mapper = mapper;
    }

    @Override
    public Response listMogplexRepoEnvVars(String repoId) {
        MogplexCaller caller = MogplexCaller.of(security);
        List<RepositoryEnvVars.EnvVar> vars =
                envVars.list(caller.projectId(), repositoryId(repoId)).orElseThrow(EnvVarsResource::repoNotFound);
        ArrayNode out = mapper.createArrayNode();
        for (RepositoryEnvVars.EnvVar v : vars) {
            ObjectNode o = out.addObject();
            o.put("id", Ids.uuidOf(v.id()));
            o.put("key", v.key());
            ArrayNode targets = o.putArray("target");
            v.targets().forEach(targets::add);
            o.put("type", v.type());
            o.put("updatedAt", v.updatedAt().toInstant().toEpochMilli());
        }
        ObjectNode data = mapper.createObjectNode();
        data.set("envVars", out);
        return MogplexResponses.ok(data);
    }

    @Override
    public Response setMogplexRepoEnvVar(String repoId, JsonNode body) {
        MogplexCaller caller = MogplexCaller.of(security);
        EnvVarBodies.SetBody set = EnvVarBodies.set(body);
        RepositoryEnvVars.SetResult result = envVars.set(
                        caller.asCaller(),
                        caller.projectId(),
                        repositoryId(repoId),
                        set.key(),
                        set.value(),
                        set.targets(),
                        set.type())
                .orElseThrow(EnvVarsResource::repoNotFound);
        ObjectNode data = mapper.createObjectNode();
        data.put("action", result.action());
        data.put("key", result.key());
        data.put("updatedCount", result.updatedCount());
        return MogplexResponses.ok(data);
    }

    @Override
    public Response deleteMogplexRepoEnvVar(String repoId, JsonNode body) {
        MogplexCaller caller = MogplexCaller.of(security);
        String key = EnvVarBodies.delete(body);
        int deleted = envVars.delete(caller.asCaller(), caller.projectId(), repositoryId(repoId), key)
                .orElseThrow(EnvVarsResource::repoNotFound);
        if (deleted == 0) {
            throw MogplexException.notFound("Environment variable not found");
        }
        ObjectNode data = mapper.createObjectNode();
        data.put("key", key);
        data.put("deletedCount", deleted);
        return MogplexResponses.ok(data);
    }

    /** The typed id of the repository a path names; a malformed UUID names none. */
    private static String repositoryId(String uuid) {
        String typed = Ids.typed("repo", uuid);
        if (typed == null) {
            throw repoNotFound();
        }
        return typed;
    }

    private static MogplexException repoNotFound() {
        return MogplexException.notFound("Repo not found");
    }
}
