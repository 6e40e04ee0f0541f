package dev.mobius.server;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mobius.api.model.AcquireEnvironmentRequest;
import dev.mobius.api.model.AppendSessionMessagesRequest;
import dev.mobius.api.model.AttachWorkerEnvironmentRequest;
import dev.mobius.api.model.CreateEnvironmentRequest;
import dev.mobius.api.model.CreateSecretRequest;
import dev.mobius.api.model.ExecEnvironmentRequest;
import dev.mobius.api.model.UpdateEnvironmentRequest;
import dev.mobius.api.model.UpdateSecretRequest;
import dev.mobius.api.model.WriteEnvironmentFileRequest;
import dev.mobius.server.access.AccessCache;
import dev.mobius.server.access.AccessGuard;
import dev.mobius.server.access.ApiKeySecrets;
import dev.mobius.server.access.ApiKeyService;
import dev.mobius.server.access.ApiKeysResource;
import dev.mobius.server.access.Authenticator;
import dev.mobius.server.access.Authorizer;
import dev.mobius.server.access.PermissionCatalog;
import dev.mobius.server.access.PermissionsResource;
import dev.mobius.server.access.PrincipalService;
import dev.mobius.server.access.PrincipalsResource;
import dev.mobius.server.access.RateLimiter;
import dev.mobius.server.access.RoleService;
import dev.mobius.server.access.RolesResource;
import dev.mobius.server.actions.ActionExecutor;
import dev.mobius.server.actions.ActionService;
import dev.mobius.server.actions.ActionStep;
import dev.mobius.server.actions.ActionStepRunner;
import dev.mobius.server.actions.ActionsResource;
import dev.mobius.server.actions.Calls;
import dev.mobius.server.actions.Catalog;
import dev.mobius.server.actions.CatalogResource;
import dev.mobius.server.actions.PatchBody;
import dev.mobius.server.agents.AgentLoop;
import dev.mobius.server.agents.AgentService;
import dev.mobius.server.agents.AgentStep;
import dev.mobius.server.agents.AgentsResource;
import dev.mobius.server.agents.AssignmentService;
import dev.mobius.server.agents.BindingService;
import dev.mobius.server.agents.ModelCatalog;
import dev.mobius.server.agents.ServerGenerations;
import dev.mobius.server.audit.AuditLogService;
import dev.mobius.server.audit.AuditLogsResource;
import dev.mobius.server.audit.AuditTrail;
import dev.mobius.server.automations.AutomationService;
import dev.mobius.server.automations.AutomationsResource;
import dev.mobius.server.automations.TriggerSecrets;
import dev.mobius.server.db.Database;
import dev.mobius.server.db.Notifier;
import dev.mobius.server.environments.EnvironmentProviders;
import dev.mobius.server.environments.EnvironmentService;
import dev.mobius.server.environments.EnvironmentUpkeep;
import dev.mobius.server.environments.EnvironmentsResource;
import dev.mobius.server.environments.UpdateEnvironmentBody;
import dev.mobius.server.events.EventDispatcher;
import dev.mobius.server.events.Expressions;
import dev.mobius.server.events.Lifecycle;
import dev.mobius.server.http.ClientAddress;
import dev.mobius.server.http.Cursors;
import dev.mobius.server.http.DatabaseGate;
import dev.mobius.server.http.ErrorMappers;
import dev.mobius.server.http.Idempotency;
import dev.mobius.server.http.IgnoreH2cUpgrade;
import dev.mobius.server.http.InputGuard;
import dev.mobius.server.http.OperationCatalog;
import dev.mobius.server.http.ProtocolErrors;
import dev.mobius.server.http.RequestLog;
import dev.mobius.server.http.RequestRules;
import dev.mobius.server.http.TimestampParam;
import dev.mobius.server.ids.Ids;
import dev.mobius.server.interactions.InteractionExpirer;
import dev.mobius.server.interactions.InteractionService;
import dev.mobius.server.interactions.InteractionStep;
import dev.mobius.server.interactions.InteractionViews;
import dev.mobius.server.interactions.InteractionsResource;
import dev.mobius.server.jobs.JobOutcomesRelay;
import dev.mobius.server.jobs.JobQueue;
import dev.mobius.server.json.Json;
import dev.mobius.server.mogplex.Loopback;
import dev.mobius.server.mogplex.MogplexAccessResource;
import dev.mobius.server.mogplex.MogplexErrors;
import dev.mobius.server.mogplex.MogplexGate;
import dev.mobius.server.outbound.OutboundGuard;
import dev.mobius.server.outbound.OutboundHttp;
import dev.mobius.server.projects.ProjectService;
import dev.mobius.server.projects.ProjectsResource;
import dev.mobius.server.runs.ChildRunStep;
import dev.mobius.server.runs.EventWaitStep;
import dev.mobius.server.runs.RunEngine;
import dev.mobius.server.runs.RunMachine;
import dev.mobius.server.runs.RunService;
import dev.mobius.server.runs.RunStarter;
import dev.mobius.server.runs.RunStreams;
import dev.mobius.server.runs.RunWakeups;
import dev.mobius.server.runs.RunsResource;
import dev.mobius.server.runs.SleepStep;
import dev.mobius.server.runs.Specs;
import dev.mobius.server.runs.StepKinds;
import dev.mobius.server.runs.WaitRoute;
import dev.mobius.server.secrets.Envelope;
import dev.mobius.server.secrets.MasterKeys;
import dev.mobius.server.secrets.SecretService;
import dev.mobius.server.secrets.SecretStore;
import dev.mobius.server.secrets.SecretsResource;
import dev.mobius.server.secrets.V18_1__Move_signing_keys;
import dev.mobius.server.sessions.GenerationDeltas;
import dev.mobius.server.sessions.SessionService;
import dev.mobius.server.sessions.SessionStreams;
import dev.mobius.server.signing.SecretBox;
import dev.mobius.server.system.Bootstrap;
import dev.mobius.server.system.SystemResource;
import dev.mobius.server.tables.RowService;
import dev.mobius.server.tables.TableService;
import dev.mobius.server.tables.TablesResource;
import dev.mobius.server.tables.UpdateTableBody;
import dev.mobius.server.triggers.EventTriggerRoute;
import dev.mobius.server.triggers.ScheduleFirer;
import dev.mobius.server.triggers.TriggerDeliveries;
import dev.mobius.server.triggers.TriggersResource;
import dev.mobius.server.users.UserService;
import dev.mobius.server.webhooks.WebhookDeliverer;
import dev.mobius.server.webhooks.WebhookOutbox;
import dev.mobius.server.webhooks.WebhookService;
import dev.mobius.server.webhooks.WebhooksResource;
import dev.mobius.server.workers.WorkerHub;
import dev.mobius.server.workers.WorkerSessions;
import dev.mobius.server.workers.WorkerSessionsResource;
import dev.mobius.server.workers.WorkerSocketResource;
import java.io.IOException;
import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.glassfish.grizzly.http.server.HttpServer;
import org.glassfish.jersey.grizzly2.httpserver.GrizzlyHttpServerFactory;
import org.glassfish.jersey.jackson.JacksonFeature;
import org.glassfish.jersey.server.ResourceConfig;
import org.glassfish.jersey.server.ServerProperties;
import org.jdbi.v3.core.Jdbi;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The whole object graph, wired by hand in one place: database, shared HTTP pieces, one
 * service and resource per feature, then Jersey on Grizzly. Read top to bottom.
 */
public final class MobiusServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(MobiusServer.class);
    private static final int MAX_HEADER_BYTES = 16 * 1024;
    /** How long generation deltas are kept for session streams that reconnect with Last-Event-ID. */
    private static final long GENERATION_DELTA_RETENTION_SECONDS = 300;

    private final HttpServer http;
    private final RunStreams streams;
    private final WorkerHub workerHub;
    private final Notifier notifier;
    private final JobQueue jobs;
    /** Background workers, stopped in this order once HTTP is down. */
    private final List<AutoCloseable> workers;

    private final Database database;
    private final int port;
    private final SessionStreams sessionStreams;
    private final GenerationDeltas generationDeltas;
    private final dev.mobius.server.tracing.Tracing tracing;
    /** The background loops /readyz reports; set once start-up has started them. */
    private dev.mobius.server.background.Readiness readiness;

    private MobiusServer(
            HttpServer http,
            RunStreams streams,
            WorkerHub workerHub,
            Notifier notifier,
            JobQueue jobs,
            List<AutoCloseable> workers,
            Database database,
            int port,
            SessionStreams sessionStreams,
            GenerationDeltas generationDeltas,
            dev.mobius.server.tracing.Tracing tracing) {
        this.tracing = tracing;
        this.sessionStreams = sessionStreams;
        this.generationDeltas = generationDeltas;
        this.notifier = notifier;
        this.jobs = jobs;
        this.http = http;
        this.streams = streams;
        this.workerHub = workerHub;
        this.workers = workers;
        this.database = database;
        this.port = port;
    }

    public static MobiusServer start(ServerConfig config) throws IOException {
        return start(config, System.getenv());
    }

    /**
     * Starts with {@code env} as the source of the settings {@link ServerConfig} does not carry
     * (artifacts, presets, MCP origins, metrics): the process environment over the configuration file.
     */
    public static MobiusServer start(ServerConfig config, Map<String, String> env) throws IOException {
        Tuning tuning = config.tuning();
        ObjectMapper mapper = Json.newMapper();
        // The master key comes before the database: a migration moves signing keys under it.
        Envelope envelope = new Envelope(
                MasterKeys.load(config.masterKey(), config.dataDir(), config.databaseUrl() == null), mapper);
        Database database = Database.open(
                config.databaseUrl(),
                config.dataDir(),
                config.durableEmbedded(),
                tuning.dbPoolSize(),
                tuning.dbConnectionTimeoutMillis(),
                tuning.dbWatchMillis(),
                List.of(new V18_1__Move_signing_keys(envelope)));
        try {
            Jdbi jdbi = database.jdbi();
            // ---- metrics: on when MOBIUS_METRICS_PORT is set; the rest of the block is at the end ----
            dev.mobius.server.metrics.Metrics metrics = dev.mobius.server.metrics.Metrics.fromEnv(env, jdbi);
            if (metrics != null) {
                metrics.pool(database.dataSource());
            }
            java.util.concurrent.atomic.AtomicReference<dev.mobius.server.background.Readiness> readiness =
                    new java.util.concurrent.atomic.AtomicReference<>();
            // ---- end of metrics (first part) ----
            // Traces: exported over OTLP when MOBIUS_OTLP_ENDPOINT is set, OpenTelemetry's no-op otherwise.
            dev.mobius.server.tracing.Tracing tracing = dev.mobius.server.tracing.Tracing.fromEnv(env);
            Ids ids = new Ids();
            // Secrets: one store for project secrets and every signing key; a wrong master key stops here.
            SecretStore secretStore = new SecretStore(ids, envelope);
            secretStore.checkMasterKeys(jdbi);
            ApiKeySecrets secrets = new ApiKeySecrets();
            OperationCatalog catalog = OperationCatalog.load();
            Cursors cursors = new Cursors(database.installationSecret("cursor_hmac_key"));
            AuditTrail audit = new AuditTrail(ids, mapper);
            SecretService secretService = new SecretService(jdbi, secretStore, audit, cursors);

            PermissionCatalog permissions = PermissionCatalog.load(mapper);
            permissions.verifyCovers(catalog);
            permissions.syncSystemRoles(jdbi);
            AccessGuard guard = new AccessGuard(permissions);

            Optional<String> bootstrapKey = Bootstrap.run(jdbi, ids, secrets, config.bootstrapApiKey());
            // People and their personal access tokens; the first start also makes the first user.
            UserService users = new UserService(jdbi, ids);
            Optional<String> firstToken =
                    Bootstrap.firstUser(jdbi, users, config.mogplex().bootstrapToken());

            ProjectService projects = new ProjectService(jdbi, ids, mapper, audit, cursors);
            PrincipalService principals = new PrincipalService(jdbi, ids, mapper, audit, guard);
            RoleService roles = new RoleService(jdbi, ids, mapper, audit, cursors, permissions, guard);
            ApiKeyService apiKeys = new ApiKeyService(jdbi, ids, mapper, audit, cursors, secrets);
            AuditLogService auditLogs = new AuditLogService(jdbi, mapper, cursors);
            Expressions expressions = new Expressions();
            // Stored idempotent replays are sealed under the installation's own key.
            SecretBox replayBox = new SecretBox(database.installationSecret("secret_box_key"));
            // Worker sessions come first: the catalogue lists the actions their registrations advertise.
            WorkerSessions workerSessions = new WorkerSessions(jdbi, ids, mapper);
            Catalog actionCatalog = new Catalog(mapper, workerSessions);
            RunWakeups wakeups = new RunWakeups();
            // Outbound calls (actions now, webhooks later) share one guard and one bounded client.
            OutboundGuard outboundGuard = new OutboundGuard(config.outboundAllowPrivate());
            OutboundHttp outbound = new OutboundHttp(
                    outboundGuard, java.time.Duration.ofSeconds(config.outboundTimeoutSeconds()), tracing);
            // Workers: jobs in PostgreSQL, handed to connected workers over the worker socket. How a job
            // ends goes to the action invocation it ran, through the relay (actions need the queue too).
            JobOutcomesRelay jobOutcomes = new JobOutcomesRelay();
            JobQueue jobDispatch = new JobQueue(
                    jdbi,
                    ids,
                    mapper,
                    jobOutcomes,
                    tuning.workerLeaseSeconds(),
                    tuning.workerHeartbeatSeconds(),
                    tuning.workerMaxAttempts());
            ActionExecutor actionExecutor = new ActionExecutor(
                    jdbi,
                    mapper,
                    actionCatalog,
                    new Calls(mapper, outbound, expressions),
                    secretStore,
                    wakeups::nudge,
                    tuning.actionThreads());
            ActionService actions = new ActionService(
                    jdbi,
                    ids,
                    mapper,
                    audit,
                    cursors,
                    secretStore,
                    actionCatalog,
                    actionExecutor,
                    jobDispatch,
                    outboundGuard);
            ActionStepRunner actionSteps =
                    new ActionStepRunner(mapper, actionCatalog, actions, jobDispatch, wakeups::nudge);
            jobOutcomes.connect(actionSteps);
            // Webhooks: the outbox is the Lifecycle of runs and interactions; it reads interactions
            // through their views alone, so it needs no InteractionService (which reports to it).
            WebhookDeliverer webhookDeliverer = new WebhookDeliverer(
                    jdbi, ids, secretStore, audit, mapper, outboundGuard, config.webhooks(), tracing);
            InteractionViews interactionViews = new InteractionViews(mapper);
            Lifecycle outbox = new WebhookOutbox(
                    ids, mapper, interactionViews::view, interactionViews::callback, webhookDeliverer::nudge);
            Lifecycle lifecycle = metrics == null ? outbox : metrics.runs(outbox); // metrics: runs and steps
            WebhookService webhooks =
                    new WebhookService(jdbi, ids, mapper, audit, cursors, secretStore, webhookDeliverer, outboundGuard);
            // Toolkits and skills: grants and imported tools are checked against the action catalogue.
            dev.mobius.server.toolkits.ToolkitService toolkits = new dev.mobius.server.toolkits.ToolkitService(
                    jdbi, ids, mapper, audit, new dev.mobius.server.toolkits.Grants(actionCatalog));
            dev.mobius.server.skills.SkillService skills =
                    new dev.mobius.server.skills.SkillService(jdbi, ids, mapper, audit, actionCatalog);
            // Tables: typed project memory; row changes become source events in their transaction.
            TableService tables = new TableService(jdbi, ids, mapper, audit, cursors, guard);
            RowService tableRows = new RowService(jdbi, ids, mapper, cursors);
            // Agents: each with its agent principal; assignments check toolkits, skills and tables.
            AgentService agents = new AgentService(jdbi, ids, mapper, audit, guard, principals);
            AssignmentService agentAssignments = new AssignmentService(jdbi, ids, audit, toolkits, skills);
            BindingService agentBindings = new BindingService(jdbi, ids, mapper, audit);
            ModelCatalog models = new ModelCatalog(
                    jdbi, config.models().models(), config.models().defaultModel());
            InteractionService interactions = new InteractionService(
                    jdbi,
                    ids,
                    mapper,
                    audit,
                    cursors,
                    interactionViews,
                    wakeups::nudge,
                    lifecycle,
                    outboundGuard,
                    secretStore);
            // The agent loop: turns on workers or the model endpoint, tools from the agent's manifest,
            // the conversation in the agent's session.
            dev.mobius.server.agents.ToolManifests toolManifests =
                    new dev.mobius.server.agents.ToolManifests(jdbi, actionCatalog, mapper);
            dev.mobius.server.sessions.SessionStore sessionStore =
                    new dev.mobius.server.sessions.SessionStore(ids, mapper);
            AgentLoop agentLoop = new AgentLoop(
                    ids,
                    mapper,
                    jobDispatch,
                    actionSteps,
                    sessionStore,
                    (h, projectId, agentId, toolNames) -> toolManifests
                            .resolve(
                                    h,
                                    projectId,
                                    agentId,
                                    new dev.mobius.server.agents.ToolManifests.ManifestQuery(null, null, toolNames))
                            .tools(),
                    new AgentLoop.PlatformModels() {
                        @Override
                        public boolean serves(String provider, String model) {
                            return config.models().platformRoute(provider, model);
                        }

                        @Override
                        public String defaultModel() {
                            return config.models().defaultModel() != null
                                    ? config.models().defaultModel()
                                    : config.models().models().isEmpty()
                                            ? null
                                            : config.models().models().get(0);
                        }
                    });
            // ---- Mogplex sandboxes and agent runs: checkouts and harnesses as jobs on the user's worker
            // environments; the runner is built and started below, once the notifier exists ----
            dev.mobius.server.mogplex.sandboxes.SandboxService mogplexSandboxes =
                    new dev.mobius.server.mogplex.sandboxes.SandboxService(jdbi, ids, mapper, jobDispatch);
            dev.mobius.server.mogplex.runs.AgentRunService mogplexRuns =
                    new dev.mobius.server.mogplex.runs.AgentRunService(
                            jdbi, ids, mapper, jobDispatch, mogplexSandboxes);
            // ---- end of the Mogplex sandboxes and agent runs block ----
            // Step kinds: adding one is one class and one line here (docs/ARCHITECTURE.md).
            StepKinds stepKinds = new StepKinds(List.of(
                    new SleepStep(),
                    new EventWaitStep(ids, mapper),
                    new ChildRunStep(expressions),
                    new AgentStep(agentLoop),
                    new InteractionStep(interactions, mapper),
                    new ActionStep(actionSteps, actionCatalog),
                    new dev.mobius.server.mogplex.runs.HarnessStep(mogplexRuns, mapper)));
            AutomationService automations =
                    new AutomationService(jdbi, ids, mapper, audit, cursors, expressions, stepKinds);
            Specs specs = new Specs(mapper);
            RunStarter starter = new RunStarter(ids, mapper, specs, stepKinds, lifecycle);
            RunMachine machine = new RunMachine(mapper, specs, stepKinds, starter);
            RunEngine engine = new RunEngine(jdbi, machine, wakeups, tracing, tuning.engineThreads());
            // One LISTEN connection for the node: run streams, the worker dispatch and the access cache follow
            // their topics on it.
            Notifier notifier = new Notifier(database.dataSource());
            RunStreams streams = new RunStreams(
                    jdbi,
                    database.dataSource(),
                    mapper,
                    notifier,
                    tuning.streamWriters(),
                    tuning.streamPendingBytes(),
                    tuning.streamStallMillis());
            // Session streams: generation deltas from workers, written in batches, read by every node.
            SessionStreams sessionStreams = new SessionStreams(
                    database.dataSource(),
                    mapper,
                    notifier,
                    tuning.streamWriters(),
                    tuning.streamPendingBytes(),
                    tuning.streamStallMillis());
            GenerationDeltas generationDeltas =
                    new GenerationDeltas(database.dataSource(), mapper, GENERATION_DELTA_RETENTION_SECONDS);
            SessionService sessions = new SessionService(jdbi, sessionStore, mapper, sessionStreams);
            RunService runs = new RunService(jdbi, ids, mapper, cursors, engine, machine, starter, streams);
            EventDispatcher dispatcher = new EventDispatcher(
                    jdbi,
                    mapper,
                    List.of(new EventTriggerRoute(starter, expressions), new WaitRoute(runs, expressions, mapper)),
                    engine::nudge);
            TriggerDeliveries deliveries = new TriggerDeliveries(jdbi, ids, mapper, starter, () -> {
                engine.nudge();
                dispatcher.nudge();
            });
            TriggerSecrets triggerSecrets = new TriggerSecrets(jdbi, secretStore, audit);
            ScheduleFirer schedules = new ScheduleFirer(jdbi, mapper, starter, runs, java.time.Clock.systemUTC());
            InteractionExpirer expirer = new InteractionExpirer(interactions);
            // Credentials and grants are remembered per node until an access change is announced.
            AccessCache accessCache = new AccessCache(database.dataSource(), jdbi);
            Authenticator authenticator = new Authenticator(jdbi, catalog, accessCache);
            Authorizer authorizer = new Authorizer(catalog, accessCache);
            WorkerHub workerHub = new WorkerHub(
                    jdbi,
                    notifier,
                    authenticator,
                    authorizer,
                    catalog,
                    jobDispatch,
                    workerSessions,
                    tuning.workerQueryToken(),
                    tuning.workerPollMillis(),
                    tuning.workerKeepaliveMillis(),
                    tuning.workerAuthCheckMillis(),
                    tuning.workerFrameThreads(),
                    tuning.workerDrainMillis(),
                    generationDeltas);

            // Generations on the operator's model endpoint: claimed from the job queue by every node.
            ServerGenerations serverGenerations = new ServerGenerations(
                    jdbi,
                    mapper,
                    jobDispatch,
                    secretStore,
                    notifier,
                    config.models(),
                    tracing,
                    tuning.workerPollMillis());
            // Environments: worker environments run exec, files and logs as jobs pinned to them; no
            // provider of machines is configured, so provider environments answer provider_unavailable.
            EnvironmentService environments = new EnvironmentService(
                    jdbi, ids, mapper, audit, cursors, EnvironmentProviders.NONE, jobDispatch, notifier, secretStore);
            EnvironmentUpkeep environmentUpkeep = new EnvironmentUpkeep(environments, 500);
            // ---- Mogplex agent runs: the runner on every node, woken by the ends of environment jobs ----
            dev.mobius.server.mogplex.runs.AgentRunner mogplexRunner =
                    new dev.mobius.server.mogplex.runs.AgentRunner(mogplexRuns, notifier, 500);
            mogplexRuns.connect(mogplexRunner::nudge, wakeups::nudge);
            mogplexRunner.start();
            // ---- end of the Mogplex agent runs block ----

            // Artifacts: bytes in PostgreSQL chunks, uploads streamed under a job lease, a sweeper for
            // retention and abandoned uploads, signed download URLs under this installation's key.
            dev.mobius.server.artifacts.ArtifactService artifacts = new dev.mobius.server.artifacts.ArtifactService(
                    jdbi,
                    ids,
                    mapper,
                    cursors,
                    new dev.mobius.server.artifacts.PostgresChunkStorage(jdbi),
                    dev.mobius.server.artifacts.ArtifactSettings.from(env),
                    new dev.mobius.server.artifacts.SignedUrls(database.installationSecret("artifact_url_key")));
            dev.mobius.server.artifacts.ArtifactSweeper artifactSweeper =
                    new dev.mobius.server.artifacts.ArtifactSweeper(artifacts);

            // ---- Repositories and MCP servers (with the secret values they own) -------------------
            dev.mobius.server.repositories.RepositoryService repositories =
                    new dev.mobius.server.repositories.RepositoryService(jdbi, ids, audit, cursors);
            dev.mobius.server.repositories.RepositoryEnvVars repositoryEnvVars =
                    new dev.mobius.server.repositories.RepositoryEnvVars(jdbi, ids, secretStore, audit);
            dev.mobius.server.mcpservers.McpServerService mcpServers =
                    new dev.mobius.server.mcpservers.McpServerService(jdbi, ids, mapper, audit, cursors, secretStore);
            // Mogplex discovery: what a user can work with, and the preset agents it forks on first use.
            dev.mobius.server.mogplex.discovery.PresetAgents presetAgents =
                    new dev.mobius.server.mogplex.discovery.PresetAgents(
                            jdbi,
                            dev.mobius.server.mogplex.discovery.PresetCatalog.load(
                                    mapper, env.get("MOBIUS_AGENT_PRESETS")),
                            agents);
            dev.mobius.server.mogplex.discovery.DiscoveryService discovery =
                    new dev.mobius.server.mogplex.discovery.DiscoveryService(
                            jdbi, mapper, repositories, presetAgents, models, mcpServers);
            // ---- end of repositories and MCP servers ------------------------------------------------

            RequestLog requestLog = new RequestLog(ids);
            // The Mogplex API: its failures in its own envelope, its tokens checked by its own gate.
            ErrorMappers errors =
                    new ErrorMappers(database, new MogplexErrors(), new dev.mobius.server.control.ControlErrors());
            Loopback loopback = new Loopback();
            MogplexGate.Tokens mogplexTokens = new MogplexGate.Tokens(jdbi, users, loopback::isLoopback);
            // ---- control-plane routes (/api/* outside /api/v1): a token or a session of the local login ----
            dev.mobius.server.control.sessions.SessionStore controlSessionStore =
                    new dev.mobius.server.control.sessions.SessionStore(jdbi, ids);
            dev.mobius.server.control.sessions.LocalSessions controlSessions =
                    new dev.mobius.server.control.sessions.LocalSessions(controlSessionStore);
            dev.mobius.server.control.ControlAuth controlAuth = new dev.mobius.server.control.ControlAuth(
                    mogplexTokens, config.mogplex().requestsPerMinute(), controlSessions);
            // ---- end of control-plane routes ----------------------------------------------------------
            // ---- MCP endpoint: JSON-RPC over HTTP; its tools call this node's Mogplex REST routes ----
            dev.mobius.server.mogplex.mcp.McpResource mcp = new dev.mobius.server.mogplex.mcp.McpResource(
                    mogplexTokens,
                    config.mogplex().requestsPerMinute(),
                    loopback,
                    dev.mobius.server.mogplex.mcp.McpOrigins.from(env),
                    mapper);
            // ---- end of MCP endpoint ----------------------------------------------------------------
            // ---- Mogplex automations: graphs compiled into versions of automations the engine runs ----
            dev.mobius.server.mogplex.automations.FlowService mogplexFlows =
                    new dev.mobius.server.mogplex.automations.FlowService(
                            jdbi,
                            ids,
                            mapper,
                            models,
                            kind -> stepKinds.find(kind) != null,
                            (provider, model) -> config.models().platformRoute(provider, model),
                            starter,
                            runs::nudgeEngine,
                            presetAgents::fork);
            // ---- end of Mogplex automations -----------------------------------------------------------
            // ---- control-plane identity and the GitHub webhook: login (10 a minute per username, 60 per
            // address), the signed-in user, the session's tokens; deliveries to events and automations ----
            dev.mobius.server.control.sessions.ControlAuthResource controlAuthRoutes =
                    new dev.mobius.server.control.sessions.ControlAuthResource(
                            controlAuth,
                            controlSessions,
                            controlSessionStore,
                            new dev.mobius.server.control.sessions.LoginService(
                                    jdbi,
                                    new dev.mobius.server.control.sessions.Passwords(),
                                    controlSessionStore,
                                    10,
                                    60),
                            new dev.mobius.server.control.sessions.ApiKeyService(users),
                            users,
                            new dev.mobius.server.control.sessions.AuthUserView(
                                    jdbi, !config.models().models().isEmpty()));
            dev.mobius.server.control.github.GithubWebhookResource githubWebhook =
                    new dev.mobius.server.control.github.GithubWebhookResource(
                            new dev.mobius.server.control.github.GithubWebhookService(
                                    jdbi,
                                    ids,
                                    mapper,
                                    mogplexFlows,
                                    dispatcher::nudge,
                                    config.mogplex().githubWebhookSecret()));
            // ---- end of control-plane identity and the GitHub webhook ----------------------------------
            // ---- control-plane settings: theme and default model, the model catalogue and its enablement,
            // MCP servers for the web and the CLI, observability figures ----
            dev.mobius.server.control.settings.ModelChoices modelChoices =
                    new dev.mobius.server.control.settings.ModelChoices(
                            jdbi,
                            models,
                            config.models().models(),
                            config.models().defaultModel());
            dev.mobius.server.control.settings.SettingsResource controlSettings =
                    new dev.mobius.server.control.settings.SettingsResource(
                            controlAuth,
                            new dev.mobius.server.control.settings.SettingsService(jdbi, mapper, modelChoices),
                            mapper);
            dev.mobius.server.control.mcpservers.McpServersResource controlMcpServers =
                    new dev.mobius.server.control.mcpservers.McpServersResource(
                            controlAuth,
                            new dev.mobius.server.control.mcpservers.McpServersService(
                                    jdbi,
                                    ids,
                                    mapper,
                                    audit,
                                    mcpServers,
                                    discovery,
                                    dev.mobius.server.control.mcpservers.McpServersService.defaultValidation()),
                            mapper);
            dev.mobius.server.control.observability.StatsResource controlStats =
                    new dev.mobius.server.control.observability.StatsResource(
                            controlAuth,
                            new dev.mobius.server.control.observability.StatsService(
                                    jdbi, mapper, java.time.Clock.systemUTC()));
            // ---- end of control-plane settings ----------------------------------------------------------
            ResourceConfig app = new ResourceConfig()
                    .property(ServerProperties.WADL_FEATURE_DISABLE, true)
                    .property(ServerProperties.BV_SEND_ERROR_IN_RESPONSE, false)
                    // Our mappers render JSON errors; Jackson's own would answer in plain text.
                    .register(JacksonFeature.withoutExceptionMappers())
                    .register(new Json.MapperResolver(mapper))
                    .register(errors)
                    .register(new ErrorMappers.Validation(errors))
                    .register(new ErrorMappers.Rules(errors))
                    .register(new TimestampParam())
                    .register(new RequestRules()
                            .with(CreateSecretRequest.class, SecretService::check)
                            .with(UpdateSecretRequest.class, SecretService::check)
                            .with(AppendSessionMessagesRequest.class, SessionService::check)
                            .with(CreateEnvironmentRequest.class, EnvironmentService::check)
                            .with(AttachWorkerEnvironmentRequest.class, EnvironmentService::check)
                            .with(AcquireEnvironmentRequest.class, EnvironmentService::check)
                            .with(UpdateEnvironmentRequest.class, EnvironmentService::check)
                            .with(ExecEnvironmentRequest.class, EnvironmentService::check)
                            .with(WriteEnvironmentFileRequest.class, EnvironmentService::check)
                            // repositories and MCP servers
                            .with(
                                    dev.mobius.api.model.CreateRepositoryRequest.class,
                                    dev.mobius.server.repositories.RepositoryService::check)
                            .with(
                                    dev.mobius.api.model.UpdateRepositoryRequest.class,
                                    dev.mobius.server.repositories.RepositoryService::check)
                            .with(
                                    dev.mobius.api.model.CreateMcpServerRequest.class,
                                    dev.mobius.server.mcpservers.McpServerService::check)
                            .with(
                                    dev.mobius.api.model.UpdateMcpServerRequest.class,
                                    dev.mobius.server.mcpservers.McpServerService::check))
                    .register(requestLog)
                    .register(new dev.mobius.server.http.RequestContext()) // logs: project and principal
                    .register(new dev.mobius.server.http.ApiVersionHeader(catalog))
                    .register(new DatabaseGate(database::available))
                    .register(new dev.mobius.server.artifacts.ArtifactUploads.Hold(catalog))
                    .register(new dev.mobius.server.artifacts.SignedDownloads(artifacts))
                    .register(new InputGuard(config.maxRequestBodyBytes(), catalog))
                    .register(authenticator)
                    .register(new RateLimiter(jdbi, config.rateLimits(), TriggerSecrets::ingestHandle))
                    .register(triggerSecrets)
                    .register(authorizer)
                    .register(new Idempotency(jdbi, catalog, mapper, replayBox))
                    .register(new dev.mobius.server.artifacts.ArtifactUploads.Serve(catalog, artifacts))
                    .register(new dev.mobius.server.artifacts.ArtifactsResource(artifacts))
                    .register(new dev.mobius.server.artifacts.TagsParam(mapper))
                    .register(new PatchBody(mapper))
                    .register(new UpdateTableBody(mapper))
                    .register(new UpdateEnvironmentBody(mapper))
                    .register(new dev.mobius.server.repositories.UpdateRepositoryBody(mapper)) // repositories
                    .register(new SystemResource(database, catalog, readiness::get))
                    .register(new dev.mobius.server.docs.DocsResource())
                    .register(new ProjectsResource(projects))
                    .register(new PrincipalsResource(principals))
                    .register(new RolesResource(roles))
                    .register(new PermissionsResource(roles))
                    .register(new ApiKeysResource(apiKeys))
                    .register(new AuditLogsResource(auditLogs))
                    .register(new AutomationsResource(automations, triggerSecrets))
                    .register(new RunsResource(runs))
                    .register(new InteractionsResource(interactions))
                    .register(dev.mobius.server.streams.StreamHub.connectionFilter())
                    .register(new TriggersResource(deliveries))
                    .register(new ActionsResource(actions))
                    .register(new CatalogResource(actions))
                    .register(new WorkerSocketResource())
                    .register(new WorkerSessionsResource(workerSessions))
                    .register(new WebhooksResource(webhooks))
                    .register(new dev.mobius.server.toolkits.ToolkitsResource(toolkits))
                    .register(new dev.mobius.server.skills.SkillsResource(skills))
                    .register(new SecretsResource(secretService))
                    .register(new TablesResource(tables, tableRows, mapper))
                    .register(new AgentsResource(agents, agentAssignments, agentBindings, models, sessions))
                    .register(new dev.mobius.server.agents.ToolManifestResource(toolManifests))
                    .register(new EnvironmentsResource(environments))
                    // repositories and MCP servers
                    .register(new dev.mobius.server.repositories.RepositoriesResource(repositories))
                    .register(new dev.mobius.server.mcpservers.McpServersResource(mcpServers))
                    .register(new dev.mobius.server.mogplex.discovery.DiscoveryResource(discovery))
                    .register(new dev.mobius.server.mogplex.discovery.EnvVarsResource(repositoryEnvVars, mapper))
                    .register(new MogplexGate(
                            catalog, mogplexTokens, config.mogplex().requestsPerMinute()))
                    .register(mcp) // MCP endpoint
                    .register(
                            new dev.mobius.server.mogplex.automations.AutomationsResource(mogplexFlows)) // automations
                    .register(new MogplexAccessResource())
                    .register(controlAuthRoutes) // control-plane identity
                    .register(githubWebhook) // GitHub webhook
                    .register(controlSettings) // control-plane settings and models
                    .register(controlMcpServers) // control-plane MCP servers
                    .register(controlStats) // control-plane observability figures
                    // Mogplex sandboxes and agent runs.
                    .register(new dev.mobius.server.mogplex.sandboxes.SandboxesResource(mogplexSandboxes))
                    .register(new dev.mobius.server.mogplex.runs.AgentRunsResource(mogplexRuns));

            if (metrics != null) {
                app.register(metrics.http()); // metrics: HTTP requests by route template
            }
            if (tracing.on()) {
                app.register(new dev.mobius.server.tracing.RequestSpans(tracing)); // traces: one span per request
            }
            URI base = URI.create("http://" + config.bind() + ":" + config.port() + "/");
            HttpServer http = GrizzlyHttpServerFactory.createHttpServer(base, app, false);
            ClientAddress.install(http);
            // DELETE with a JSON body (the Mogplex deleteMogplexRepoEnvVar names the variable in it):
            // Grizzly reads bodies of methods whose payload HTTP leaves undefined only when told to.
            http.getServerConfiguration().setAllowPayloadForUndefinedHttpMethods(true);
            // Request line and headers together; beyond it the answer is 414 or 431 in the envelope.
            http.getListener("grizzly").setMaxHttpHeaderSize(MAX_HEADER_BYTES);
            http.getListener("grizzly").registerAddOn(new ProtocolErrors());
            http.getListener("grizzly").registerAddOn(new IgnoreH2cUpgrade());
            http.getListener("grizzly").registerAddOn(new org.glassfish.grizzly.websockets.WebSocketAddOn());
            // ---- metrics: the hooks, gauges and HTTP timing; the loops' threads are taken below ----
            if (metrics != null) {
                jobDispatch.observe(metrics.jobs());
                webhookDeliverer.observe(metrics.webhooks());
                metrics.gauge(
                        "mobius.sse.streams",
                        "Open run and session event streams",
                        () -> streams.openStreams() + sessionStreams.openStreams());
                metrics.gauge("mobius.worker.sessions", "Open worker WebSocket sessions", workerHub::connectionCount);
            }
            java.util.Set<Thread> threadsBefore = dev.mobius.server.background.Readiness.snapshot();
            // ---- end of metrics (hooks) ----
            http.start();
            engine.start();
            streams.start();
            sessionStreams.start();
            generationDeltas.start();
            schedules.start();
            dispatcher.start();
            expirer.start();
            actionExecutor.start();
            webhookDeliverer.start();
            serverGenerations.start();
            artifactSweeper.start();
            environmentUpkeep.start();
            int port = http.getListener("grizzly").getPort();
            workerHub.start(port);
            notifier.start();
            // ---- readiness and metrics: each loop's threads, then the scrape port ----
            readiness.set(dev.mobius.server.background.Readiness.of(
                    threadsBefore,
                    List.of(
                            new dev.mobius.server.background.Readiness.Loop(
                                    "engine", List.of("run-engine-"), engine.heartbeats()),
                            new dev.mobius.server.background.Readiness.Loop(
                                    "dispatcher",
                                    List.of("event-dispatcher", "worker-dispatch"),
                                    List.of(dispatcher.heartbeat(), workerHub.dispatchHeartbeat())),
                            new dev.mobius.server.background.Readiness.Loop(
                                    "deliverer",
                                    List.of("webhook-claimer", "webhook-recorder"),
                                    webhookDeliverer.heartbeats()),
                            new dev.mobius.server.background.Readiness.Loop(
                                    "sweeper", List.of("worker-timers"), List.of(workerHub.timerHeartbeat())),
                            new dev.mobius.server.background.Readiness.Loop(
                                    "notifier", List.of("db-notifier"), List.of(notifier.heartbeat()))),
                    java.time.Duration.ofSeconds(tuning.loopStallSeconds())));
            if (metrics != null) {
                readiness
                        .get()
                        .loops()
                        .keySet()
                        .forEach(loop -> metrics.registry()
                                .gauge(
                                        "mobius.loop.up",
                                        io.micrometer.core.instrument.Tags.of("loop", loop),
                                        readiness.get(),
                                        r -> r.loops().get(loop) == dev.mobius.server.background.Readiness.State.RUNNING
                                                ? 1
                                                : 0));
                int metricsPort = metrics.serve(config.bind(), dev.mobius.server.metrics.Metrics.port(env));
                log.info("Mobius metrics on http://{}:{}/metrics", config.bind(), metricsPort);
            }
            // ---- end of readiness and metrics ----
            if (bootstrapKey.isPresent()) {
                announce(config, bootstrapKey.get(), port);
            }
            if (firstToken.isPresent()) {
                announceToken(config, firstToken.get(), port);
            }
            // Last line of start-up: scripts and tests wait for it.
            log.info("Mobius listening on http://{}:{}", config.bind(), port);
            MobiusServer server = new MobiusServer(
                    http,
                    streams,
                    workerHub,
                    notifier,
                    jobDispatch,
                    List.of(
                            dispatcher,
                            schedules,
                            expirer,
                            actionExecutor,
                            serverGenerations,
                            artifactSweeper,
                            environmentUpkeep,
                            mogplexRunner, // Mogplex agent runs
                            engine,
                            webhookDeliverer,
                            requestLog,
                            tracing, // traces: what is queued is exported before the scrape port closes
                            metrics == null
                                    ? (AutoCloseable) () -> {}
                                    : metrics), // metrics: the scrape port closes last
                    database,
                    port,
                    sessionStreams,
                    generationDeltas,
                    tracing);
            server.readiness = readiness.get();
            return server;
        } catch (IOException | RuntimeException e) {
            database.close();
            throw e;
        }
    }

    private static void announce(ServerConfig config, String key, int port) throws IOException {
        var file = Bootstrap.writeKeyFile(config.dataDir(), key);
        if (config.printBootstrapKey()) {
            String host = config.bind().equals("0.0.0.0") ? "127.0.0.1" : config.bind();
            System.out.println();
            System.out.println("Bootstrap API key (shown this once; also saved to " + file + ", mode 0600):");
            System.out.println("  " + key);
            System.out.println("Try it:");
            System.out.println(
                    "  curl -H 'Authorization: Bearer " + key + "' http://" + host + ":" + port + "/v1/projects");
            System.out.println();
        }
    }

    private static void announceToken(ServerConfig config, String token, int port) throws IOException {
        var file = Bootstrap.writeTokenFile(config.dataDir(), token);
        if (config.printBootstrapKey()) {
            String host = config.bind().equals("0.0.0.0") ? "127.0.0.1" : config.bind();
            System.out.println(
                    "Mogplex API token of the user admin (shown this once; also saved to " + file + ", mode 0600):");
            System.out.println("  " + token);
            System.out.println("Try it:");
            System.out.println("  curl -H 'Authorization: Bearer " + token + "' http://" + host + ":" + port
                    + "/api/v1/mogplex/models");
            System.out.println();
        }
    }

    public int port() {
        return port;
    }

    /** The job queue, for tests that enqueue jobs the way the action engine does. */
    public JobQueue jobs() {
        return jobs;
    }

    /** The background loops and whether each runs (tests stop one to see /readyz fail). */
    public dev.mobius.server.background.Readiness readiness() {
        return readiness;
    }

    public Database database() {
        return database;
    }

    /** The node's traces (tests flush them to their receiver). */
    public dev.mobius.server.tracing.Tracing tracing() {
        return tracing;
    }

    /** Where the worker socket hands generation deltas, for tests that feed them directly. */
    public GenerationDeltas generationDeltas() {
        return generationDeltas;
    }

    @Override
    public void close() {
        // Streams first: open SSE connections would otherwise hold the HTTP shutdown for its grace period.
        streams.close();
        sessionStreams.close();
        // Workers are told to drain and their sockets closed before HTTP stops waiting on connections.
        workerHub.close();
        // Deltas still queued are written before the database closes.
        generationDeltas.close();
        try {
            http.shutdown(10, TimeUnit.SECONDS).get(15, TimeUnit.SECONDS);
        } catch (Exception e) {
            http.shutdownNow();
        }
        for (AutoCloseable worker : workers) {
            try {
                worker.close();
            } catch (Exception e) {
                log.warn("stopping {} failed", worker.getClass().getSimpleName(), e);
            }
        }
        // Last of the loops: while the others drain, the wake-ups they send each other still arrive.
        notifier.close();
        database.close();
    }
}
