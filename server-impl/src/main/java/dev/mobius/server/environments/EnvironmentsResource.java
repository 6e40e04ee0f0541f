package dev.mobius.server.environments;

import dev.mobius.api.EnvironmentsApi;
import dev.mobius.api.model.AcquireEnvironmentRequest;
import dev.mobius.api.model.AttachWorkerEnvironmentRequest;
import dev.mobius.api.model.CreateEnvironmentGitCredentialRequest;
import dev.mobius.api.model.CreateEnvironmentRequest;
import dev.mobius.api.model.EnvironmentBoundToType;
import dev.mobius.api.model.EnvironmentLifetime;
import dev.mobius.api.model.EnvironmentMode;
import dev.mobius.api.model.EnvironmentProvider;
import dev.mobius.api.model.EnvironmentPurpose;
import dev.mobius.api.model.EnvironmentStatus;
import dev.mobius.api.model.ExecEnvironmentRequest;
import dev.mobius.api.model.ResourceScope;
import dev.mobius.api.model.StartEnvironmentWorkerRequest;
import dev.mobius.api.model.UpdateEnvironmentRequest;
import dev.mobius.api.model.WriteEnvironmentFileRequest;
import dev.mobius.server.tenancy.CallerContext;
import jakarta.inject.Provider;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.SecurityContext;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.time.OffsetDateTime;
import java.util.concurrent.atomic.AtomicBoolean;
import org.glassfish.grizzly.CloseListener;
import org.glassfish.grizzly.Connection;
import org.glassfish.grizzly.http.server.Request;
import org.glassfish.grizzly.nio.NIOConnection;

/** HTTP face of {@link EnvironmentService}. */
// Jersey reads the class-level @Path from the class itself, not from the generated interface;
// ResourcePathsTest keeps this copy equal to it.
@jakarta.ws.rs.Path("/v1/projects/{project}/environments")
public final class EnvironmentsResource implements EnvironmentsApi {
    private final EnvironmentService environments;

    @Context
    private SecurityContext security;

    @Context
    private Provider<Request> request;

    public EnvironmentsResource(EnvironmentService environments) {
        this.environments = environments;
    }

    @Override
    public Response listEnvironments(
            String project,
            String cursor,
            Integer limit,
            EnvironmentProvider provider,
            EnvironmentStatus status,
            EnvironmentLifetime lifetime,
            EnvironmentMode environmentMode,
            EnvironmentPurpose purpose,
            ResourceScope scope,
            String ownedBy,
            EnvironmentBoundToType boundToType,
            String boundToId,
            Boolean includeDestroyed,
            OffsetDateTime destroyedSince) {
        return Response.ok(environments.list(
                        CallerContext.of(security),
                        project,
                        new EnvironmentService.ListQuery(
                                cursor,
                                limit,
                                provider,
                                status,
                                lifetime,
                                environmentMode,
                                purpose,
                                scope,
                                ownedBy,
                                boundToType,
                                boundToId,
                                includeDestroyed,
                                destroyedSince)))
                .build();
    }

    @Override
    public Response createEnvironment(String project, CreateEnvironmentRequest body) {
        return Response.status(Response.Status.CREATED)
                .entity(environments.create(CallerContext.of(security), project, body))
                .build();
    }

    @Override
    public Response attachWorkerEnvironment(String project, AttachWorkerEnvironmentRequest body) {
        return Response.ok(environments.attach(CallerContext.of(security), project, body))
                .build();
    }

    @Override
    public Response acquireEnvironment(String project, AcquireEnvironmentRequest body) {
        return Response.ok(environments.acquire(CallerContext.of(security), project, body))
                .build();
    }

    @Override
    public Response releaseEnvironmentLease(String project, String leaseId) {
        return Response.ok(environments.release(CallerContext.of(security), project, leaseId))
                .build();
    }

    @Override
    public Response getEnvironment(String project, String environmentId) {
        return Response.ok(environments.get(CallerContext.of(security), project, environmentId))
                .build();
    }

    @Override
    public Response updateEnvironment(String project, String environmentId, UpdateEnvironmentRequest body) {
        return Response.ok(environments.update(CallerContext.of(security), project, environmentId, body))
                .build();
    }

    @Override
    public Response destroyEnvironment(String project, String environmentId) {
        return Response.ok(environments.destroy(CallerContext.of(security), project, environmentId))
                .build();
    }

    @Override
    public Response reconcileEnvironment(String project, String environmentId) {
        return Response.ok(environments.reconcile(CallerContext.of(security), project, environmentId))
                .build();
    }

    @Override
    public Response execEnvironment(String project, String environmentId, ExecEnvironmentRequest body) {
        return Response.ok(environments.exec(CallerContext.of(security), project, environmentId, body, client()))
                .build();
    }

    @Override
    public Response writeEnvironmentFile(String project, String environmentId, WriteEnvironmentFileRequest body) {
        environments.writeFile(CallerContext.of(security), project, environmentId, body, client());
        return Response.noContent().build();
    }

    @Override
    public Response getEnvironmentWorkerLogs(String project, String environmentId, String logName, Integer tail) {
        return Response.ok(
                        environments.logs(CallerContext.of(security), project, environmentId, logName, tail, client()))
                .build();
    }

    @Override
    public Response startEnvironmentWorker(String project, String environmentId, StartEnvironmentWorkerRequest body) {
        return Response.ok(environments.startWorker(CallerContext.of(security), project, environmentId, body))
                .build();
    }

    @Override
    public Response createEnvironmentGitCredential(
            String project, String environmentId, CreateEnvironmentGitCredentialRequest body) {
        return Response.ok(environments.gitCredential(CallerContext.of(security), project, environmentId, body))
                .build();
    }

    /**
     * The connection of this request: a client that closes it while its job runs cancels the job.
     * While Jersey runs a request synchronously Grizzly does not read from the connection, so a
     * close would go unnoticed until the answer is written; the wait therefore looks at the socket
     * itself (a non-blocking read: end of stream or an error means the client is gone). A client
     * that sends more bytes meanwhile (a pipelined request) cannot be given them back: from then on
     * it counts as present and the connection is closed after this answer.
     */
    private EnvironmentJobs.Client client() {
        Request grizzly;
        Connection<?> connection;
        try {
            grizzly = request.get();
            connection = grizzly.getContext().getConnection();
        } catch (RuntimeException e) {
            return EnvironmentJobs.Client.NONE;
        }
        SocketChannel channel =
                connection instanceof NIOConnection nio && nio.getChannel() instanceof SocketChannel sc ? sc : null;
        AtomicBoolean gone = new AtomicBoolean();
        AtomicBoolean sentMore = new AtomicBoolean();
        return new EnvironmentJobs.Client() {
            @Override
            public boolean gone() {
                if (gone.get() || !connection.isOpen()) {
                    return true;
                }
                if (channel == null || sentMore.get()) {
                    return false;
                }
                try {
                    int n = channel.read(ByteBuffer.allocate(1));
                    if (n < 0) {
                        gone.set(true);
                    } else if (n > 0) {
                        sentMore.set(true);
                        grizzly.getResponse().setHeader("Connection", "close");
                    }
                } catch (IOException | RuntimeException e) {
                    gone.set(true);
                }
                return gone.get();
            }

            @Override
            public Runnable onGone(Runnable r) {
                CloseListener<Connection<?>, org.glassfish.grizzly.CloseType> listener = (closeable, type) -> {
                    gone.set(true);
                    r.run();
                };
                connection.addCloseListener(listener);
                return () -> connection.removeCloseListener(listener);
            }
        };
    }
}
