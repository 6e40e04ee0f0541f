package dev.mobius.conformance;

import com.atlassian.oai.validator.OpenApiInteractionValidator;
import com.atlassian.oai.validator.model.Request;
import com.atlassian.oai.validator.model.SimpleResponse;
import com.atlassian.oai.validator.report.ValidationReport;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import io.swagger.v3.oas.models.OpenAPI;
import io.swagger.v3.oas.models.Operation;
import io.swagger.v3.oas.models.examples.Example;
import io.swagger.v3.oas.models.media.MediaType;
import io.swagger.v3.oas.models.media.Schema;
import io.swagger.v3.oas.models.parameters.Parameter;
import io.swagger.v3.parser.OpenAPIV3Parser;
import io.swagger.v3.parser.core.models.ParseOptions;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Replays every response example of the contract against a server, in the order the examples
 * declare, and checks status, schema conformance (an independent OpenAPI validator) and equality
 * with the example. The rules are in docs/CONTRACT-TESTS.md.
 *
 * <p>Against a server of its own (a fresh database, as the build's tests start) every example is
 * compared in full. Against a shared deployment ({@link Target#shared()}) the replay keeps to
 * projects of its own: the handles the examples create get a suffix unique to the run, the
 * examples' {@code default} project becomes a project the run creates, idempotency keys get the
 * same suffix, examples that show the state of a freshly installed deployment ({@code
 * x-replay-fresh-deployment}: the organization's project list, the bootstrap principal's
 * memberships) are skipped with that reason, and every project the run created is archived and
 * deleted at the end.
 */
public final class ContractReplay {
    /**
     * Where the replay goes.
     *
     * @param baseUrl the server's origin, e.g. {@code https://mobius.example.com}
     * @param key an organization API key (the replay creates projects)
     * @param shared whether the deployment holds other data than the replay's
     */
    public record Target(String baseUrl, String key, boolean shared) {
        public Target {
            baseUrl = baseUrl.replaceAll("/+$", "");
        }
    }

    /**
     * State that no operation of the contract can create, made by the one running the replay
     * against a server of its own (agent sessions are opened only by the agent step): cases marked
     * {@code x-replay-setup: <name>} run the set-up of that name once, before the first of them,
     * and are skipped, with that reason, when nobody supplied it (a deployment replayed from outside).
     */
    public ContractReplay withSetup(String name, Runnable setup) {
        setups.put(name, setup);
        return this;
    }

    private final Map<String, Runnable> setups = new HashMap<>();
    private final Set<String> setupsDone = new HashSet<>();

    /** The bundled contract this kit was built with (the document the server serves at {@code /openapi.yaml}). */
    public static String bundledContract() {
        return bundled("openapi/openapi-public.yaml");
    }

    private static String bundled(String resource) {
        try (InputStream in = ContractReplay.class.getClassLoader().getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException(resource + " is not on the class path");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read the bundled contract", e);
        }
    }

    private static final Pattern TYPED_ID = Pattern.compile("\\b[a-z]+_[0-9a-z]{26}\\b");
    private static final Pattern UUID =
            Pattern.compile("\\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\\b");
    /** What the examples' ids look like: typed ids in {@code /v1}, UUIDs in the Mogplex dialect. */
    private final Pattern ID;
    /** A credential of the dialect's form that the server never issued. */
    private final String invalidKey;
    /** Named credentials ({@code x-replay-auth: token:<name>}) supplied by the one running the replay. */
    private final Map<String, String> credentials = new HashMap<>();

    private static final String DEFAULT_PROJECT = "default";
    /** Unexpected 429s are waited out this many times per case before the case fails. */
    private static final int RATE_LIMIT_RETRIES = 8;

    private final ObjectMapper json = new ObjectMapper();
    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final OpenAPI api;
    private final OpenApiInteractionValidator validator;
    private final Target target;
    /** example id → real id */
    private final Map<String, String> ids = new HashMap<>();
    /** example API key id → raw key returned when it was created */
    private final Map<String, String> rawKeys = new HashMap<>();
    /**
     * Example ids and handles that an earlier case should have produced but did not (it failed or
     * was skipped): cases that use one are skipped, naming the case that did not produce it.
     */
    private final Map<String, String> missing = new HashMap<>();
    /** On a shared deployment: example handle → the handle this run uses instead. */
    private final Map<String, String> handles = new LinkedHashMap<>();

    /** On a shared deployment: the handles of {@link #handles} as they appear inside text. */
    private Pattern handlesInText;

    private final String runTag;
    /** Handles of the projects this run created, to delete at the end (shared deployments). */
    private final Set<String> createdProjects = new LinkedHashSet<>();

    record Case(
            String operationId,
            String method,
            String path,
            Operation op,
            String status,
            String name,
            MediaType media,
            Example example,
            Map<String, Object> extensions,
            int order) {}

    public ContractReplay(String contractYaml, Target target) {
        this(contractYaml, target, TYPED_ID, "mbx_NoSuchKey0000000000000000000000000000");
    }

    /**
     * A replay of the Mogplex contract: ids are UUIDs, the target's key is a user's personal access
     * token, and examples never create projects (the shared-deployment handling does not apply).
     */
    public static ContractReplay mogplex(String contractYaml, String baseUrl, String token) {
        return new ContractReplay(
                contractYaml, new Target(baseUrl, token, false), UUID, "mog_NoSuchToken00000000000000000000");
    }

    /** The bundled Mogplex contract this kit was built with. */
    public static String bundledMogplexContract() {
        return bundled("openapi/openapi-mogplex.yaml");
    }

    /**
     * A signed-in session that cases marked {@code x-replay-auth: session:<name>} send: its cookie
     * ({@code name=value}), and its CSRF token as {@code X-CSRF-Token} on every request but GET and
     * HEAD (unless the case says {@code x-replay-csrf: missing} or {@code wrong}).
     */
    public ContractReplay withSession(String name, String cookie, String csrfToken) {
        sessions.put(name, new String[] {cookie, csrfToken});
        return this;
    }

    /** The secret cases marked {@code x-replay-sign: github} are signed with ({@code X-Hub-Signature-256}). */
    public ContractReplay withGithubWebhookSecret(String secret) {
        githubWebhookSecret = secret.getBytes(StandardCharsets.UTF_8);
        return this;
    }

    private final Map<String, String[]> sessions = new HashMap<>();
    private byte[] githubWebhookSecret;

    /** Adds the case's session cookie and CSRF token, if its credential is a session. */
    private void sessionHeaders(Case c, HttpRequest.Builder request) {
        String auth = c.extensions.getOrDefault("x-replay-auth", "bootstrap").toString();
        if (!auth.startsWith("session:") || !sessions.containsKey(auth.substring(8))) {
            return;
        }
        String[] session = sessions.get(auth.substring(8));
        request.header("Cookie", session[0]);
        Object csrf = c.extensions.get("x-replay-csrf");
        if (!c.method.equals("GET") && !c.method.equals("HEAD") && !"missing".equals(csrf)) {
            request.header("X-CSRF-Token", "wrong".equals(csrf) ? session[1] + "x" : session[1]);
        }
    }

    /** {@code sha256=<hex HMAC-SHA256 of the body>} under the GitHub webhook secret. */
    private String githubSignature(String body) {
        try {
            javax.crypto.Mac mac = javax.crypto.Mac.getInstance("HmacSHA256");
            mac.init(new javax.crypto.spec.SecretKeySpec(githubWebhookSecret, "HmacSHA256"));
            return "sha256=" + java.util.HexFormat.of().formatHex(mac.doFinal(body.getBytes(StandardCharsets.UTF_8)));
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is unavailable", e);
        }
    }

    /** A credential that cases marked {@code x-replay-auth: token:<name>} send. */
    public ContractReplay withCredential(String name, String value) {
        credentials.put(name, value);
        return this;
    }

    private ContractReplay(String contractYaml, Target target, Pattern ids, String invalidKey) {
        this.ID = ids;
        this.invalidKey = invalidKey;
        ParseOptions resolveFully = new ParseOptions();
        resolveFully.setResolve(true);
        resolveFully.setResolveFully(true);
        this.api = new OpenAPIV3Parser()
                .readContents(contractYaml, null, resolveFully)
                .getOpenAPI();
        // The validator needs the document inline: it is the bundled one, without $refs to files.
        this.validator = OpenApiInteractionValidator.createForInlineApiSpecification(contractYaml)
                .build();
        this.target = target;
        this.runTag = randomTag();
        if (target.shared()) {
            handles.put(DEFAULT_PROJECT, "conformance-" + runTag);
        }
    }

    /** What is wrong with the contract itself: an operation or a documented status without an example. */
    public List<String> incompleteness() {
        List<String> problems = new ArrayList<>();
        collect(problems);
        return problems;
    }

    /** Replays every case, then the generated bad inputs, then cleans up; returns the report. */
    public Report run() {
        List<String> problems = new ArrayList<>();
        List<Case> cases = collect(problems);
        cases.sort(Comparator.comparingInt(Case::order)
                .thenComparing(Case::operationId)
                .thenComparing(Case::name));
        List<Outcome> outcomes = new ArrayList<>();
        problems.forEach(p -> outcomes.add(Outcome.failed("contract", "completeness", "-", p, 0)));
        if (target.shared()) {
            collectCreatedHandles(cases);
            handlesInText = Pattern.compile("(?<![a-z0-9-])("
                    + String.join(
                            "|", handles.keySet().stream().map(Pattern::quote).toList())
                    + ")(?![a-z0-9-]*[a-z0-9])");
            outcomes.add(createOwnProject());
        }
        for (Case c : cases) {
            long start = System.nanoTime();
            Outcome outcome;
            try {
                outcome = replay(c, start);
            } catch (Exception e) {
                outcome = Outcome.failed(c.operationId, c.name, c.status, e.toString(), elapsed(start));
            }
            if (outcome.verdict() != Outcome.Verdict.PASSED) {
                markMissing(c, outcome);
            }
            outcomes.add(outcome);
        }
        // On the state the replay built, so that every example's path leads somewhere.
        outcomes.addAll(replayNegativeInputs(cases));
        if (target.shared()) {
            outcomes.addAll(cleanUp());
        }
        return new Report(target.baseUrl(), outcomes);
    }

    private List<Case> collect(List<String> problems) {
        List<Case> cases = new ArrayList<>();
        api.getPaths()
                .forEach((path, item) -> item.readOperationsMap().forEach((method, op) -> {
                    String opId = op.getOperationId();
                    int before = cases.size();
                    op.getResponses().forEach((status, response) -> {
                        int found = 0;
                        if (response.getContent() != null) {
                            for (Map.Entry<String, MediaType> media :
                                    response.getContent().entrySet()) {
                                Map<String, Example> examples = media.getValue().getExamples();
                                if (examples == null) {
                                    continue;
                                }
                                for (Map.Entry<String, Example> e : examples.entrySet()) {
                                    Map<String, Object> ext = e.getValue().getExtensions() == null
                                            ? Map.of()
                                            : e.getValue().getExtensions();
                                    cases.add(new Case(
                                            opId,
                                            method.name(),
                                            path,
                                            op,
                                            status,
                                            e.getKey(),
                                            media.getValue(),
                                            e.getValue(),
                                            ext,
                                            order(ext, opId, e.getKey(), problems)));
                                    found++;
                                }
                            }
                        }
                        // Responses without a body (204) carry their cases as x-replay-examples on the response.
                        Object bodiless = response.getExtensions() == null
                                ? null
                                : response.getExtensions().get("x-replay-examples");
                        if (bodiless instanceof Map<?, ?> map) {
                            for (Map.Entry<?, ?> e : map.entrySet()) {
                                @SuppressWarnings("unchecked") // a YAML mapping, parsed with string keys
                                Map<String, Object> ext = (Map<String, Object>) e.getValue();
                                cases.add(new Case(
                                        opId,
                                        method.name(),
                                        path,
                                        op,
                                        status,
                                        (String) e.getKey(),
                                        null,
                                        null,
                                        ext,
                                        order(ext, opId, (String) e.getKey(), problems)));
                                found++;
                            }
                        }
                        if (found == 0) {
                            problems.add(opId + ": documented status " + status + " has no example");
                        }
                    });
                    if (cases.size() == before) {
                        problems.add(opId + ": no examples");
                    }
                }));
        return cases;
    }

    private static int order(Map<String, Object> ext, String opId, String name, List<String> problems) {
        Object order = ext.get("x-replay-order");
        if (!(order instanceof Number n)) {
            problems.add(opId + "/" + name + ": missing x-replay-order");
            return Integer.MAX_VALUE;
        }
        return n.intValue();
    }

    /** One assembled request of a case: where it goes and what it carries. */
    private record Assembled(String path, String query, HttpRequest.Builder request, List<String> sent) {}

    private Assembled assemble(Case c) throws IOException {
        String path = c.path;
        StringBuilder query = new StringBuilder();
        List<String> sent = new ArrayList<>();
        HttpRequest.Builder request = HttpRequest.newBuilder().timeout(Duration.ofSeconds(30));
        for (Parameter p : parametersOf(c)) {
            Object value = exampleValue(p, c.name);
            if (value == null) {
                continue;
            }
            List<String> values = new ArrayList<>();
            if (value instanceof List<?> list) {
                list.forEach(v -> values.add(String.valueOf(v)));
            } else if (value instanceof ArrayNode array) {
                array.forEach(v -> values.add(v.asText()));
            } else {
                values.add(value instanceof JsonNode n ? n.asText() : String.valueOf(value));
            }
            sent.addAll(values);
            switch (p.getIn()) {
                case "path" ->
                    path = path.replace(
                            "{" + p.getName() + "}",
                            URLEncoder.encode(substitute(values.get(0), p.getName(), true), StandardCharsets.UTF_8)
                                    .replace("+", "%20"));
                case "query" ->
                    values.forEach(v -> query.append(query.length() == 0 ? "?" : "&")
                            .append(URLEncoder.encode(p.getName(), StandardCharsets.UTF_8))
                            .append('=')
                            .append(URLEncoder.encode(substitute(v, p.getName(), false), StandardCharsets.UTF_8)));
                case "header" -> request.header(p.getName(), header(p.getName(), values.get(0)));
                default -> {}
            }
        }
        map(c.extensions.get("x-replay-headers")).forEach((k, v) -> {
            sent.add(String.valueOf(v));
            request.header(k, header(k, String.valueOf(v)));
        });

        String credential = credentialOf(c);
        if (credential != null) {
            request.header("Authorization", "Bearer " + credential);
        }
        sessionHeaders(c, request);

        HttpRequest.BodyPublisher body = HttpRequest.BodyPublishers.noBody();
        Example requestExample = requestExample(c);
        if (requestExample != null) {
            Map<String, Object> reqExt =
                    requestExample.getExtensions() == null ? Map.of() : requestExample.getExtensions();
            String bytes;
            if (reqExt.containsKey("x-raw-body")) {
                bytes = String.valueOf(reqExt.get("x-raw-body"));
            } else {
                JsonNode tree = json.valueToTree(requestExample.getValue());
                sent.add(tree.toString());
                bytes = json.writeValueAsString(substituteTree(tree, null));
            }
            request.header("Content-Type", String.valueOf(reqExt.getOrDefault("x-content-type", "application/json")));
            body = HttpRequest.BodyPublishers.ofString(bytes);
            if ("github".equals(c.extensions.get("x-replay-sign")) && githubWebhookSecret != null) {
                request.header("X-Hub-Signature-256", githubSignature(bytes));
            }
        }
        request.method(c.method, body).uri(URI.create(target.baseUrl() + path + query));
        return new Assembled(path, query.toString(), request, sent);
    }

    private Example requestExample(Case c) {
        if (c.op.getRequestBody() == null || c.op.getRequestBody().getContent() == null) {
            return null;
        }
        return c.op.getRequestBody().getContent().values().stream()
                .filter(m -> m.getExamples() != null && m.getExamples().containsKey(c.name))
                .map(m -> m.getExamples().get(c.name))
                .findFirst()
                .orElse(null);
    }

    private Outcome replay(Case c, long start) throws Exception {
        if (target.shared() && Boolean.TRUE.equals(c.extensions.get("x-replay-fresh-deployment"))) {
            return Outcome.skipped(
                    c.operationId,
                    c.name,
                    c.status,
                    "shows the state of a freshly installed deployment (run with --fresh on one)");
        }
        Object setup = c.extensions.get("x-replay-setup");
        if (setup != null) {
            Runnable make = setups.get(setup.toString());
            if (make == null) {
                return Outcome.skipped(
                        c.operationId,
                        c.name,
                        c.status,
                        "needs state that only the server's own replay sets up (x-replay-setup: " + setup + ")");
            }
            if (setupsDone.add(setup.toString())) {
                make.run();
            }
        }
        Assembled a = assemble(c);
        String why = prerequisiteMissing(c, a.sent());
        if (why != null) {
            return Outcome.skipped(c.operationId, c.name, c.status, why);
        }
        String where = c.method + " " + a.path() + a.query();
        if (c.extensions.containsKey("x-replay-websocket-send")) {
            String problem = replayWebSocket(
                    target.baseUrl() + a.path() + a.query(),
                    a.request().build().headers().firstValue("Authorization").orElse(null),
                    c);
            return problem == null
                    ? Outcome.passed(c.operationId, c.name, c.status, "", elapsed(start))
                    : Outcome.failed(c.operationId, c.name, c.status, "WS " + where + ": " + problem, elapsed(start));
        }
        HttpResponse<String> response = send(a.request().build(), c.status);
        // State the asynchronous run engine produces is awaited: repeat until it matches, up to 10 s.
        if (Boolean.TRUE.equals(c.extensions.get("x-replay-eventually"))) {
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (System.nanoTime() < deadline && !matches(c, response)) {
                Thread.sleep(100);
                response = send(a.request().build(), c.status);
            }
        }

        // Status, then schema conformance, then headers, then equality with the example.
        if (!String.valueOf(response.statusCode()).equals(c.status)) {
            return Outcome.failed(
                    c.operationId,
                    c.name,
                    c.status,
                    where + ": status " + response.statusCode() + ", expected " + c.status + "; body "
                            + response.body(),
                    elapsed(start));
        }
        SimpleResponse.Builder validated = SimpleResponse.Builder.status(response.statusCode());
        response.headers().firstValue("Content-Type").ifPresent(validated::withContentType);
        if (!response.body().isEmpty()) {
            validated.withBody(response.body());
        }
        ValidationReport report =
                validator.validateResponse(a.path(), Request.Method.valueOf(c.method), validated.build());
        if (report.hasErrors()) {
            return Outcome.failed(
                    c.operationId,
                    c.name,
                    c.status,
                    where + ": response violates the contract: " + report.getMessages() + "; body " + response.body(),
                    elapsed(start));
        }
        for (Map.Entry<String, Object> h :
                map(c.extensions.get("x-replay-expect-headers")).entrySet()) {
            String actual = response.headers().firstValue(h.getKey()).orElse(null);
            String expected = header(h.getKey(), String.valueOf(h.getValue()));
            if (!expected.equals(actual)) {
                return Outcome.failed(
                        c.operationId,
                        c.name,
                        c.status,
                        where + ": header " + h.getKey() + " = " + actual + ", expected " + expected,
                        elapsed(start));
            }
        }
        if (c.example == null || Boolean.TRUE.equals(c.extensions.get("x-replay-skip-body"))) {
            return Outcome.passed(c.operationId, c.name, c.status, "", elapsed(start));
        }
        JsonNode actual = json.readTree(response.body());
        rememberCreatedProject(c, actual);
        JsonNode expected = json.valueToTree(c.example.getValue());
        List<String> diffs = new ArrayList<>();
        compare("$", null, expected, actual, c.media.getSchema(), diffs);
        if (!diffs.isEmpty()) {
            return Outcome.failed(
                    c.operationId,
                    c.name,
                    c.status,
                    where + ": differs from the example: " + String.join("; ", diffs) + "; body " + response.body(),
                    elapsed(start));
        }
        if (actual.has("key") && expected.has("id") && actual.get("key").isTextual()) {
            rawKeys.put(expected.get("id").asText(), actual.get("key").asText());
        }
        return Outcome.passed(c.operationId, c.name, c.status, "", elapsed(start));
    }

    /**
     * Sends a request; a 429 the case does not expect is waited out as {@code Retry-After} says
     * (a shared deployment keeps its rate limits on) and the request sent again.
     */
    private HttpResponse<String> send(HttpRequest request, String expectedStatus) throws Exception {
        HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
        for (int i = 0; i < RATE_LIMIT_RETRIES && response.statusCode() == 429 && !"429".equals(expectedStatus); i++) {
            long seconds = response.headers()
                    .firstValue("Retry-After")
                    .map(ContractReplay::seconds)
                    .orElse(1L);
            Thread.sleep(Math.min(60, Math.max(1, seconds)) * 1000);
            response = http.send(request, HttpResponse.BodyHandlers.ofString());
        }
        return response;
    }

    private static long seconds(String retryAfter) {
        try {
            return Long.parseLong(retryAfter.trim());
        } catch (NumberFormatException e) {
            return 1;
        }
    }

    /** The parameters of a case's path and operation, path-level first. */
    private List<Parameter> parametersOf(Case c) {
        List<Parameter> parameters = new ArrayList<>();
        if (api.getPaths().get(c.path).getParameters() != null) {
            parameters.addAll(api.getPaths().get(c.path).getParameters());
        }
        if (c.op.getParameters() != null) {
            parameters.addAll(c.op.getParameters());
        }
        return parameters;
    }

    /** A parameter's example of that name, else its single example, else null. */
    private static Object exampleValue(Parameter p, String name) {
        if (p.getExamples() != null && p.getExamples().containsKey(name)) {
            return p.getExamples().get(name).getValue();
        }
        return p.getExample();
    }

    /** The raw credential {@code x-replay-auth} names for a case, or null for {@code none}. */
    private String credentialOf(Case c) {
        String auth = c.extensions.getOrDefault("x-replay-auth", "bootstrap").toString();
        return switch (auth) {
            case "bootstrap" -> target.key();
            case "none" -> null;
            case "invalid" -> invalidKey;
            default -> {
                if (auth.startsWith("session:")) {
                    yield null; // a cookie, not a bearer: sessionHeaders adds it
                }
                if (auth.startsWith("token:")) {
                    // A credential nobody supplied: prerequisiteMissing skips the case before this is used.
                    yield credentials.getOrDefault(auth.substring(6), invalidKey);
                }
                if (!auth.startsWith("key:")) {
                    throw new IllegalStateException("x-replay-auth " + auth + " is not a known credential");
                }
                // A key whose creating case failed: prerequisiteMissing names it before this is used.
                yield rawKeys.getOrDefault(auth.substring(4), invalidKey);
            }
        };
    }

    // ---- prerequisites -------------------------------------------------------------------------

    /**
     * After a case did not pass: the ids its example would have taught the replay, the raw key it
     * would have returned and the project handle it would have created are missing for later cases.
     */
    private void markMissing(Case c, Outcome outcome) {
        String because = Outcome.skipped(c.operationId, c.name, c.status, "").label();
        if (outcome.verdict() == Outcome.Verdict.SKIPPED) {
            because = outcome.detail().replaceFirst("^needs what .* did not produce \\((.*)\\)$", "$1");
        }
        if (c.example == null) {
            return;
        }
        JsonNode expected = json.valueToTree(c.example.getValue());
        Matcher m = ID.matcher(expected.toString());
        while (m.find()) {
            if (!ids.containsKey(m.group())) {
                missing.putIfAbsent(m.group(), because);
            }
        }
        if ("createProject".equals(c.operationId) && expected.path("handle").isTextual()) {
            missing.putIfAbsent(expected.path("handle").asText(), because);
        }
    }

    /** Why a case cannot run (a value it sends was never produced), or null. */
    private String prerequisiteMissing(Case c, List<String> sent) {
        String auth = c.extensions.getOrDefault("x-replay-auth", "bootstrap").toString();
        if (auth.startsWith("token:") && !credentials.containsKey(auth.substring(6))) {
            return "needs the credential " + auth.substring(6) + ", which only the server's own replay supplies";
        }
        if (auth.startsWith("session:") && !sessions.containsKey(auth.substring(8))) {
            return "needs the session " + auth.substring(8) + ", which only the server's own replay supplies";
        }
        if ("github".equals(c.extensions.get("x-replay-sign")) && githubWebhookSecret == null) {
            return "needs the GitHub webhook secret, which only the server's own replay supplies";
        }
        if (auth.startsWith("key:") && !rawKeys.containsKey(auth.substring(4))) {
            return "needs the raw key of " + auth.substring(4) + ", which no earlier case returned";
        }
        for (String value : sent) {
            Matcher m = ID.matcher(value);
            while (m.find()) {
                if (missing.containsKey(m.group())) {
                    return "needs what " + m.group() + " names, which an earlier case did not produce ("
                            + missing.get(m.group()) + ")";
                }
            }
            if (missing.containsKey(value)) {
                return "needs project " + value + ", which an earlier case did not produce (" + missing.get(value)
                        + ")";
            }
        }
        return null;
    }

    // ---- shared deployments --------------------------------------------------------------------

    /** The handles the examples give the projects they create, each with this run's suffix. */
    private void collectCreatedHandles(List<Case> cases) {
        for (Case c : cases) {
            if (!"createProject".equals(c.operationId)) {
                continue;
            }
            Example request = requestExample(c);
            if (request != null
                    && json.valueToTree(request.getValue()).path("handle").isTextual()) {
                String handle =
                        json.valueToTree(request.getValue()).path("handle").asText();
                handles.putIfAbsent(handle, suffixed(handle));
            }
        }
    }

    private String suffixed(String handle) {
        String suffix = "-" + runTag;
        return (handle.length() + suffix.length() > 63 ? handle.substring(0, 63 - suffix.length()) : handle) + suffix;
    }

    /** The project that stands for the examples' {@code default} project on a shared deployment. */
    private Outcome createOwnProject() {
        long start = System.nanoTime();
        String handle = handles.get(DEFAULT_PROJECT);
        try {
            ObjectNode body = json.createObjectNode().put("name", "Default").put("handle", handle);
            HttpResponse<String> response = send(
                    HttpRequest.newBuilder(URI.create(target.baseUrl() + "/v1/projects"))
                            .timeout(Duration.ofSeconds(30))
                            .header("Authorization", "Bearer " + target.key())
                            .header("Content-Type", "application/json")
                            .POST(HttpRequest.BodyPublishers.ofString(body.toString()))
                            .build(),
                    "201");
            if (response.statusCode() != 201) {
                missing.put(DEFAULT_PROJECT, "setup/createProject " + handle);
                return Outcome.failed(
                        "createProject",
                        "setup: the run's own project " + handle,
                        "201",
                        "status " + response.statusCode() + "; body " + response.body(),
                        elapsed(start));
            }
            createdProjects.add(handle);
            learnDefaultProject(json.readTree(response.body()));
            return Outcome.passed("createProject", "setup: the run's own project " + handle, "201", "", elapsed(start));
        } catch (Exception e) {
            missing.put(DEFAULT_PROJECT, "setup/createProject " + handle);
            return Outcome.failed(
                    "createProject", "setup: the run's own project " + handle, "201", e.toString(), elapsed(start));
        }
    }

    /**
     * The examples' {@code default} project (as their {@code getProject} example shows it) is the
     * run's own project, and its creator, the bootstrap principal, is the caller: the ids are
     * learned here, since the examples that teach them on a fresh server list the whole organization.
     */
    private void learnDefaultProject(JsonNode created) {
        for (Example shown : getProjectExamples()) {
            JsonNode example = json.valueToTree(shown.getValue());
            if (DEFAULT_PROJECT.equals(example.path("handle").asText())) {
                ids.putIfAbsent(example.path("id").asText(), created.path("id").asText());
                if (example.path("created_by").isTextual()
                        && created.path("created_by").isTextual()) {
                    ids.putIfAbsent(
                            example.path("created_by").asText(),
                            created.path("created_by").asText());
                }
                return;
            }
        }
    }

    /** The response examples of {@code getProject} (200). */
    private List<Example> getProjectExamples() {
        List<Example> out = new ArrayList<>();
        api.getPaths().values().forEach(item -> {
            Operation get = item.getGet();
            if (get == null || !"getProject".equals(get.getOperationId())) {
                return;
            }
            get.getResponses().forEach((status, response) -> {
                if ("200".equals(status) && response.getContent() != null) {
                    response.getContent().values().forEach(media -> {
                        if (media.getExamples() != null) {
                            out.addAll(media.getExamples().values());
                        }
                    });
                }
            });
        });
        return out;
    }

    private void rememberCreatedProject(Case c, JsonNode actual) {
        if (target.shared()
                && "createProject".equals(c.operationId)
                && actual.path("handle").isTextual()) {
            createdProjects.add(actual.path("handle").asText());
        }
    }

    /** Archives and deletes every project the run created; a failure is reported, not hidden. */
    private List<Outcome> cleanUp() {
        List<Outcome> outcomes = new ArrayList<>();
        for (String handle : createdProjects) {
            long start = System.nanoTime();
            try {
                String base = target.baseUrl() + "/v1/projects/" + URLEncoder.encode(handle, StandardCharsets.UTF_8);
                HttpResponse<String> archived = send(
                        HttpRequest.newBuilder(URI.create(base + "/archive"))
                                .timeout(Duration.ofSeconds(30))
                                .header("Authorization", "Bearer " + target.key())
                                .POST(HttpRequest.BodyPublishers.noBody())
                                .build(),
                        "200");
                HttpResponse<String> deleted = send(
                        HttpRequest.newBuilder(URI.create(base))
                                .timeout(Duration.ofSeconds(30))
                                .header("Authorization", "Bearer " + target.key())
                                .DELETE()
                                .build(),
                        "204");
                // 404: an example already deleted it.
                if (deleted.statusCode() == 204 || deleted.statusCode() == 404) {
                    outcomes.add(Outcome.passed("deleteProject", "cleanup " + handle, "204", "", elapsed(start)));
                } else {
                    outcomes.add(Outcome.failed(
                            "deleteProject",
                            "cleanup " + handle,
                            "204",
                            "archive answered " + archived.statusCode() + ", delete " + deleted.statusCode() + ": "
                                    + deleted.body(),
                            elapsed(start)));
                }
            } catch (Exception e) {
                outcomes.add(Outcome.failed("deleteProject", "cleanup " + handle, "204", e.toString(), elapsed(start)));
            }
        }
        return outcomes;
    }

    /** An {@code Idempotency-Key} is per run on a shared deployment; other headers are substituted. */
    private String header(String name, String value) {
        String v = substitute(value, name, false);
        return target.shared() && name.equalsIgnoreCase("Idempotency-Key") ? v + "-" + runTag : v;
    }

    // ---- bad inputs ----------------------------------------------------------------------------

    /**
     * For each operation, the bad inputs {@link NegativeInputs} derives from its first successful
     * example; each must get a 4xx error envelope.
     */
    private List<Outcome> replayNegativeInputs(List<Case> cases) {
        Map<String, Case> firstSuccess = new LinkedHashMap<>();
        for (Case c : cases) {
            if (c.status.startsWith("2") && !c.extensions.containsKey("x-replay-websocket-send")) {
                firstSuccess.putIfAbsent(c.operationId, c);
            }
        }
        List<Outcome> outcomes = new ArrayList<>();
        for (Case c : firstSuccess.values()) {
            Map<String, String> pathValues = new LinkedHashMap<>();
            List<Parameter> parameters = parametersOf(c);
            List<String> sent = new ArrayList<>();
            for (Parameter p : parameters) {
                if ("path".equals(p.getIn())) {
                    String value = String.valueOf(exampleValue(p, c.name));
                    sent.add(value);
                    pathValues.put(p.getName(), substitute(value, p.getName(), true));
                }
            }
            Operation withPathParameters = new Operation().parameters(parameters);
            JsonNode body = null;
            Schema<?> bodySchema = null;
            if (c.op.getRequestBody() != null && c.op.getRequestBody().getContent() != null) {
                MediaType media = c.op.getRequestBody().getContent().get("application/json");
                if (media != null
                        && media.getExamples() != null
                        && media.getExamples().containsKey(c.name)
                        && (media.getExamples().get(c.name).getExtensions() == null
                                || !media.getExamples()
                                        .get(c.name)
                                        .getExtensions()
                                        .containsKey("x-raw-body"))) {
                    JsonNode tree =
                            json.valueToTree(media.getExamples().get(c.name).getValue());
                    sent.add(tree.toString());
                    body = substituteTree(tree, null);
                    bodySchema = media.getSchema();
                }
            }
            String why = prerequisiteMissing(c, sent);
            String key = why == null ? credentialOf(c) : null;
            for (NegativeInputs.Mutation m : NegativeInputs.of(withPathParameters, pathValues, body, bodySchema)) {
                String name = "bad input: " + m.label();
                if (why != null) {
                    outcomes.add(Outcome.skipped(c.operationId, name, "4xx", why));
                    continue;
                }
                outcomes.add(replayBadInput(c, m, key, name));
            }
        }
        return outcomes;
    }

    private Outcome replayBadInput(Case c, NegativeInputs.Mutation m, String key, String name) {
        long start = System.nanoTime();
        String path = c.path;
        for (Map.Entry<String, String> v : m.pathValues().entrySet()) {
            path = path.replace(
                    "{" + v.getKey() + "}",
                    URLEncoder.encode(v.getValue(), StandardCharsets.UTF_8).replace("+", "%20"));
        }
        StringBuilder query = new StringBuilder();
        m.query()
                .forEach((k, v) -> query.append(query.length() == 0 ? "?" : "&")
                        .append(k)
                        .append('=')
                        .append(URLEncoder.encode(v, StandardCharsets.UTF_8)));
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(target.baseUrl() + path + query))
                .timeout(Duration.ofSeconds(10));
        if (key != null) {
            request.header("Authorization", "Bearer " + key);
        }
        sessionHeaders(c, request);
        if (m.body() != null) {
            request.header("Content-Type", "application/json");
            request.method(
                    c.method, HttpRequest.BodyPublishers.ofString(m.body().toString()));
        } else {
            request.method(c.method, HttpRequest.BodyPublishers.noBody());
        }
        try {
            HttpResponse<String> response = send(request.build(), "4xx");
            JsonNode error;
            try {
                error = json.readTree(response.body()).path("error");
            } catch (IOException notJson) {
                error = null;
            }
            // The control-plane routes (/api/* outside /api/v1/) answer {"error": message}, a code only where they have
            // one.
            boolean controlPath = path.startsWith("/api/") && !path.startsWith("/api/v1/");
            if (!m.expected().contains(response.statusCode())
                    || error == null
                    || !(error.path("code").isTextual() || controlPath && error.isTextual())) {
                return Outcome.failed(
                        c.operationId,
                        name,
                        "4xx",
                        c.method + " " + path + query + ": status " + response.statusCode() + ", expected one of "
                                + m.expected() + " with the error envelope; body " + response.body(),
                        elapsed(start));
            }
            return Outcome.passed(c.operationId, name, "4xx", "", elapsed(start));
        } catch (java.net.http.HttpTimeoutException e) {
            return Outcome.failed(c.operationId, name, "4xx", "no answer within 10 s", elapsed(start));
        } catch (Exception e) {
            return Outcome.failed(c.operationId, name, "4xx", e.toString(), elapsed(start));
        }
    }

    // ---- WebSocket -----------------------------------------------------------------------------

    /**
     * A WebSocket case (101): opens the socket with the case's credential, sends the frames of
     * {@code x-replay-websocket-send}, and compares the first frame received with the example,
     * against the component schema named by {@code x-replay-websocket-schema}. Returns the problem,
     * or null.
     */
    private String replayWebSocket(String url, String authorization, Case c) throws Exception {
        java.util.concurrent.CompletableFuture<String> first = new java.util.concurrent.CompletableFuture<>();
        java.net.http.WebSocket.Builder builder = http.newWebSocketBuilder();
        if (authorization != null) {
            builder.header("Authorization", authorization);
        }
        java.net.http.WebSocket ws;
        try {
            ws = builder.buildAsync(
                            URI.create(url.replaceFirst("^http", "ws")), new java.net.http.WebSocket.Listener() {
                                private final StringBuilder partial = new StringBuilder();

                                @Override
                                public java.util.concurrent.CompletionStage<?> onText(
                                        java.net.http.WebSocket w, CharSequence data, boolean last) {
                                    partial.append(data);
                                    if (last) {
                                        first.complete(partial.toString());
                                    }
                                    w.request(1);
                                    return null;
                                }
                            })
                    .get(10, java.util.concurrent.TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            return "the upgrade failed: " + e.getCause();
        }
        try {
            for (Object frame : (List<?>) c.extensions.get("x-replay-websocket-send")) {
                ws.sendText(json.writeValueAsString(substituteTree(json.valueToTree(frame), null)), true)
                        .get(5, java.util.concurrent.TimeUnit.SECONDS);
            }
            String text = first.get(10, java.util.concurrent.TimeUnit.SECONDS);
            Schema<?> schema =
                    api.getComponents().getSchemas().get(String.valueOf(c.extensions.get("x-replay-websocket-schema")));
            List<String> diffs = new ArrayList<>();
            compare("$", null, json.valueToTree(c.example.getValue()), json.readTree(text), schema, diffs);
            return diffs.isEmpty() ? null : "differs from the example: " + String.join("; ", diffs) + "; frame " + text;
        } finally {
            ws.sendClose(java.net.http.WebSocket.NORMAL_CLOSURE, "done");
        }
    }

    // ---- comparison ----------------------------------------------------------------------------

    /** Whether the response already has the example's status and body (without learning ids). */
    private boolean matches(Case c, HttpResponse<String> response) {
        if (!String.valueOf(response.statusCode()).equals(c.status)) {
            return false;
        }
        if (c.example == null) {
            return true;
        }
        try {
            Map<String, String> learned = new HashMap<>(ids);
            List<String> diffs = new ArrayList<>();
            compare(
                    "$",
                    null,
                    json.valueToTree(c.example.getValue()),
                    json.readTree(response.body()),
                    c.media.getSchema(),
                    diffs);
            ids.clear();
            ids.putAll(learned);
            return diffs.isEmpty();
        } catch (Exception e) {
            return false;
        }
    }

    /** Structural equality with id mapping; volatile properties need only be present. */
    private void compare(
            String at, String field, JsonNode expected, JsonNode actual, Schema<?> given, List<String> diffs) {
        Schema<?> schema = alternativeFor(given, actual);
        if (expected.isObject()) {
            if (!actual.isObject()) {
                diffs.add(at + ": expected an object");
                return;
            }
            Iterator<String> names = expected.fieldNames();
            while (names.hasNext()) {
                String name = names.next();
                Schema<?> property = propertySchema(schema, name);
                if (!actual.has(name)) {
                    diffs.add(at + "." + name + ": missing");
                } else if (!isVolatile(property)) {
                    compare(at + "." + name, name, expected.get(name), actual.get(name), property, diffs);
                }
            }
            Iterator<String> actualNames = actual.fieldNames();
            while (actualNames.hasNext()) {
                String name = actualNames.next();
                if (!expected.has(name) && !isVolatile(propertySchema(schema, name))) {
                    diffs.add(at + "." + name + ": not in the example (" + actual.get(name) + ")");
                }
            }
        } else if (expected.isArray()) {
            if (!actual.isArray() || actual.size() != expected.size()) {
                diffs.add(at + ": expected " + expected.size() + " items, got "
                        + (actual.isArray() ? actual.size() : actual.getNodeType()));
                return;
            }
            Schema<?> items = schema == null ? null : schema.getItems();
            for (int i = 0; i < expected.size(); i++) {
                compare(at + "[" + i + "]", field, expected.get(i), actual.get(i), items, diffs);
            }
        } else if (expected.isTextual()) {
            String e = expected.asText();
            if (!actual.isTextual()) {
                diffs.add(at + ": expected \"" + e + "\", got " + actual);
                return;
            }
            String a = actual.asText();
            if (ID.matcher(e).matches() && !ids.containsKey(e)) {
                String prefix = e.substring(0, e.indexOf('_') + 1);
                if (!a.startsWith(prefix) || ids.containsValue(a) && !e.equals(a)) {
                    diffs.add(at + ": expected an id like " + e + ", got " + a);
                } else {
                    ids.put(e, a);
                }
                return;
            }
            String want = substitute(e, field, false);
            if (!want.equals(a)) {
                diffs.add(at + ": expected \"" + want + "\", got \"" + a + "\"");
            }
        } else if (!expected.equals(actual)
                && !(expected.isNumber()
                        && actual.isNumber()
                        && expected.decimalValue().compareTo(actual.decimalValue()) == 0)) {
            diffs.add(at + ": expected " + expected + ", got " + actual);
        }
    }

    /**
     * Of a {@code oneOf}/{@code anyOf} schema, the one alternative of the answer's JSON type (an
     * object or an array), so that its volatile fields are known; any other schema as is.
     */
    private static Schema<?> alternativeFor(Schema<?> schema, JsonNode actual) {
        if (schema == null) {
            return null;
        }
        List<?> alternatives = schema.getOneOf() != null ? schema.getOneOf() : schema.getAnyOf();
        if (alternatives == null) {
            return schema;
        }
        String type = actual.isObject() ? "object" : actual.isArray() ? "array" : null;
        Schema<?> match = null;
        for (Object each : alternatives) {
            Schema<?> alternative = (Schema<?>) each;
            if (type != null && type.equals(alternative.getType())) {
                if (match != null) {
                    return schema; // more than one of that type: no telling which
                }
                match = alternative;
            }
        }
        return match != null ? match : schema;
    }

    private static Schema<?> propertySchema(Schema<?> schema, String name) {
        if (schema == null) {
            return null;
        }
        if (schema.getProperties() != null && schema.getProperties().containsKey(name)) {
            return schema.getProperties().get(name);
        }
        // A nullable reference is written as a one-member allOf: the member's properties count.
        if (schema.getAllOf() != null) {
            for (Object member : schema.getAllOf()) {
                Schema<?> found = propertySchema((Schema<?>) member, name);
                if (found != null) {
                    return found;
                }
            }
        }
        return schema.getAdditionalProperties() instanceof Schema<?> additional ? additional : null;
    }

    private static boolean isVolatile(Schema<?> schema) {
        return schema != null
                && schema.getExtensions() != null
                && Boolean.TRUE.equals(schema.getExtensions().get("x-volatile"));
    }

    // ---- substitution --------------------------------------------------------------------------

    /** Field and parameter names whose whole value may be a project handle. */
    private static final Set<String> PROJECT_FIELDS = new HashSet<>(List.of("id", "project", "handle"));

    /**
     * Replaces every example id with the real id it was mapped to and, on a shared deployment,
     * every project handle the examples create with this run's. {@code default} is replaced only
     * where it is a whole value naming a project ({@code field} is a project field or path
     * parameter), since the word has other meanings.
     */
    private String substitute(String text, String field, boolean pathParameter) {
        Matcher m = ID.matcher(text);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            m.appendReplacement(out, Matcher.quoteReplacement(ids.getOrDefault(m.group(), m.group())));
        }
        m.appendTail(out);
        String result = out.toString();
        if (!target.shared()) {
            return result;
        }
        if (result.equals(DEFAULT_PROJECT)) {
            return field != null && (pathParameter || PROJECT_FIELDS.contains(field))
                    ? handles.get(DEFAULT_PROJECT)
                    : result;
        }
        if (handlesInText == null) {
            return result;
        }
        Matcher h = handlesInText.matcher(result);
        StringBuilder named = new StringBuilder();
        while (h.find()) {
            String replacement = h.group(1).equals(DEFAULT_PROJECT)
                    // inside text ("project \"default\" not found") the word is the project's name
                    ? (result.contains("\"" + DEFAULT_PROJECT + "\"") ? handles.get(DEFAULT_PROJECT) : h.group(1))
                    : handles.get(h.group(1));
            h.appendReplacement(named, Matcher.quoteReplacement(replacement));
        }
        h.appendTail(named);
        return named.toString();
    }

    private JsonNode substituteTree(JsonNode node, String field) {
        if (node.isTextual()) {
            return TextNode.valueOf(substitute(node.asText(), field, false));
        }
        if (node.isObject()) {
            ObjectNode copy = json.createObjectNode();
            node.properties()
                    .iterator()
                    .forEachRemaining(e -> copy.set(e.getKey(), substituteTree(e.getValue(), e.getKey())));
            return copy;
        }
        if (node.isArray()) {
            ArrayNode copy = json.createArrayNode();
            node.forEach(n -> copy.add(substituteTree(n, field)));
            return copy;
        }
        return node;
    }

    @SuppressWarnings("unchecked") // a YAML mapping, parsed with string keys
    private static Map<String, Object> map(Object value) {
        if (value instanceof Map<?, ?> m) {
            return new LinkedHashMap<>((Map<String, Object>) m);
        }
        if (value instanceof ObjectNode node) {
            Map<String, Object> out = new LinkedHashMap<>();
            node.properties()
                    .iterator()
                    .forEachRemaining(e -> out.put(e.getKey(), e.getValue().asText()));
            return out;
        }
        return Map.of();
    }

    private static long elapsed(long start) {
        return (System.nanoTime() - start) / 1_000_000;
    }

    private static String randomTag() {
        String alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
        SecureRandom random = new SecureRandom();
        StringBuilder tag = new StringBuilder("r");
        for (int i = 0; i < 5; i++) {
            tag.append(alphabet.charAt(random.nextInt(alphabet.length())));
        }
        return tag.toString().toLowerCase(Locale.ROOT);
    }
}
