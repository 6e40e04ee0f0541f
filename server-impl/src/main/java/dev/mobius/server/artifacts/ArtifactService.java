package dev.mobius.server.artifacts;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mobius.api.model.Artifact;
import dev.mobius.api.model.ArtifactListResponse;
import dev.mobius.api.model.ArtifactQuotaUsage;
import dev.mobius.api.model.ArtifactSignedUrl;
import dev.mobius.api.model.ArtifactState;
import dev.mobius.api.model.ArtifactStorageBackend;
import dev.mobius.api.model.ArtifactVisibility;
import dev.mobius.server.http.ApiException;
import dev.mobius.server.http.Cursors;
import dev.mobius.server.ids.Ids;
import dev.mobius.server.tenancy.Caller;
import dev.mobius.server.tenancy.ProjectAccess;
import dev.mobius.server.tenancy.ProjectRow;
import dev.mobius.server.time.Times;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.apache.commons.fileupload2.core.FileItemInput;
import org.apache.commons.fileupload2.core.FileItemInputIterator;
import org.apache.commons.fileupload2.core.FileUploadException;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.core.statement.Query;

/**
 * Artifacts: uploads under a job lease, streamed to {@link ArtifactStorage} in the transaction that
 * makes them available; the organization's quota decided under its usage row's lock; reads, ranges,
 * signed URLs, deletion and retention.
 */
public final class ArtifactService {
    /** Form fields the lease decides; a caller sending one is refused. */
    static final Set<String> LINEAGE = Set.of("run_id", "step_id", "attempt", "job_id", "visibility", "owner_id");

    private static final Set<String> FIELDS =
            Set.of("file", "name", "mime", "size_bytes", "tags", "retain_for_seconds", "retain_until");
    private static final int FIELD_MAX_BYTES = 16 * 1024;
    private static final int DEFAULT_SIGNED_SECONDS = 900;
    private static final Pattern MIME =
            Pattern.compile("[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*(\\s*;.*)?");
    private static final TypeReference<Map<String, String>> TAGS = new TypeReference<>() {};

    private final Jdbi jdbi;
    private final Ids ids;
    private final ObjectMapper mapper;
    private final Cursors cursors;
    private final ArtifactStorage storage;
    private final ArtifactSettings settings;
    private final SignedUrls signedUrls;

    public ArtifactService(
            Jdbi jdbi,
            Ids ids,
            ObjectMapper mapper,
            Cursors cursors,
            ArtifactStorage storage,
            ArtifactSettings settings,
            SignedUrls signedUrls) {
        this.jdbi = jdbi;
        this.ids = ids;
        this.mapper = mapper;
        this.cursors = cursors;
        this.storage = storage;
        this.settings = settings;
        this.signedUrls = signedUrls;
    }

    public ArtifactSettings settings() {
        return settings;
    }

    public ArtifactStorage storage() {
        return storage;
    }

    // ---- upload ------------------------------------------------------------------------------

    /** The job a live lease holds. */
    private record Lease(String jobId, String projectId, String runId, int attempt, String sessionId, String stepId) {}

    private static Lease lease(Handle h, String token) {
        return h.createQuery(ArtifactDao.LIVE_LEASE)
                .bind("token", token)
                .map((rs, ctx) -> new Lease(
                        rs.getString("id"),
                        rs.getString("project_id"),
                        rs.getString("run_id"),
                        rs.getInt("claim_attempt"),
                        rs.getString("worker_session_id"),
                        rs.getString("step_id")))
                .findOne()
                .orElse(null);
    }

    private static ApiException leaseLost() {
        return ApiException.conflict(
                "lease_lost", "the job lease is not live; uploads need the token of a job held now", null);
    }

    private ApiException tooLarge() {
        return new ApiException(
                413,
                "payload_too_large",
                "request body is larger than " + settings.maxUploadBytes() + " bytes",
                Map.of("max_bytes", settings.maxUploadBytes()));
    }

    /** The form's fields other than the file, as they arrive. */
    private static final class Fields {
        String name;
        String mime;
        Long sizeBytes;
        Map<String, String> tags = Map.of();
        Long retainForSeconds;
        OffsetDateTime retainUntil;
        final Set<String> seen = new java.util.HashSet<>();
        final List<ApiException.FieldError> errors = new ArrayList<>();
    }

    /**
     * Stores the file of a {@code multipart/form-data} body under the lease {@code leaseToken}.
     * The file's bytes go straight from the request stream to storage through a SHA-256 digest;
     * the artifact is made available, the bytes kept and the quota charged in one transaction.
     */
    public Artifact upload(Caller caller, String projectRef, String leaseToken, FormParts.Body body)
            throws IOException {
        if (leaseToken == null || leaseToken.isBlank()) {
            throw ApiException.badRequest("lease_required", "uploads need the X-Mobius-Lease-Token of a job lease");
        }
        ProjectRow project = jdbi.withHandle(h -> ProjectAccess.require(h, caller, projectRef));
        Lease lease = jdbi.withHandle(h -> lease(h, leaseToken.trim()));
        if (lease == null || !lease.projectId().equals(project.id())) {
            throw leaseLost();
        }
        if (body.contentLength() > settings.maxUploadBytes() + FIELD_MAX_BYTES * 8L) {
            throw tooLarge();
        }
        String type = body.contentType() == null ? "" : body.contentType().toLowerCase(java.util.Locale.ROOT);
        if (!type.startsWith("multipart/form-data")) {
            throw ApiException.badRequest("invalid_multipart", "the body must be multipart/form-data");
        }
        Fields f = new Fields();
        String id = null;
        Handle h = null;
        ArtifactStorage.Writer writer = null;
        boolean committed = false;
        try {
            FileItemInputIterator parts = new FormParts().getItemIterator(body);
            long received = -1;
            String sha = null;
            String fileType = null;
            while (parts.hasNext()) {
                FileItemInput part = parts.next();
                String field = part.getFieldName();
                if (field == null) {
                    continue;
                }
                if (LINEAGE.contains(field)) {
                    throw ApiException.validation(field, "comes from the job lease; do not send it");
                }
                if (!FIELDS.contains(field)) {
                    throw ApiException.validation(field, "unknown field");
                }
                if (!f.seen.add(field)) {
                    throw ApiException.validation(field, "must be sent once");
                }
                if (!"file".equals(field)) {
                    read(f, field, text(part.getInputStream(), field));
                    continue;
                }
                fileType = part.getContentType();
                if (!f.errors.isEmpty()) {
                    throw ApiException.validation(f.errors);
                }
                id = ids.next("art");
                String artifactId = id;
                Long declared = f.sizeBytes;
                if (declared != null) {
                    checkRoom(project.orgId(), artifactId, declared);
                    if (declared > settings.maxUploadBytes()) {
                        throw tooLarge();
                    }
                }
                OffsetDateTime now = Times.now();
                jdbi.useHandle(x -> x.createUpdate(ArtifactDao.INSERT_PENDING)
                        .bind("id", artifactId)
                        .bind("org", project.orgId())
                        .bind("project", project.id())
                        .bind("run", lease.runId())
                        .bind("step", lease.stepId())
                        .bind("job", lease.jobId())
                        .bind("session", lease.sessionId())
                        .bind("attempt", lease.attempt())
                        .bind("name", f.name == null ? "" : f.name)
                        .bind("mime", "application/octet-stream")
                        .bind("declared", declared)
                        .bind("storage", storage.backend())
                        .bind("chunk", settings.chunkBytes())
                        .bind("now", now)
                        .bind("by", caller.principalId())
                        .execute());
                h = jdbi.open();
                h.begin();
                h.createQuery(ArtifactDao.LOCK_PENDING)
                        .bind("id", id)
                        .mapTo(String.class)
                        .one();
                writer = storage.writer(h, id, settings.chunkBytes());
                MessageDigest digest = sha256();
                byte[] buffer = new byte[64 * 1024];
                long n = 0;
                try (InputStream in = part.getInputStream()) {
                    for (int r; (r = in.read(buffer)) != -1; ) {
                        n += r;
                        if (n > settings.maxUploadBytes()) {
                            throw tooLarge();
                        }
                        digest.update(buffer, 0, r);
                        writer.write(buffer, 0, r);
                    }
                }
                received = n;
                sha = HexFormat.of().formatHex(digest.digest());
            }
            if (received < 0) {
                f.errors.add(new ApiException.FieldError("file", "is required"));
            }
            if (f.name == null && !f.seen.contains("name")) {
                f.errors.add(new ApiException.FieldError("name", "is required"));
            }
            if (!f.errors.isEmpty()) {
                f.errors.sort(java.util.Comparator.comparing(ApiException.FieldError::field));
                throw ApiException.validation(f.errors);
            }
            if (f.sizeBytes != null && f.sizeBytes != received) {
                throw new ApiException(
                        400,
                        "size_mismatch",
                        "size_bytes is " + f.sizeBytes + " but the file held " + received + " bytes",
                        orderedMap("size_bytes", f.sizeBytes, "received_bytes", received));
            }
            writer.finish();
            commit(h, id, project, leaseToken.trim(), lease, f, fileType, received, sha);
            h.commit();
            committed = true;
            String done = id;
            return view(jdbi.withHandle(x -> find(x, done)));
        } catch (FileUploadException e) {
            throw ApiException.badRequest("invalid_multipart", "the body is not a readable multipart/form-data form");
        } finally {
            if (!committed) {
                if (writer != null) {
                    writer.abort();
                }
                if (h != null) {
                    try {
                        h.rollback();
                    } catch (RuntimeException ignored) {
                        // the connection may be gone with the database; the sweeper finishes the job
                    }
                }
                if (id != null) {
                    fail(id);
                }
            }
            if (h != null) {
                h.close();
            }
        }
    }

    /** Early quota check, when the form declared the size before the file: refused before a byte is stored. */
    private void checkRoom(String orgId, String artifactId, long declared) {
        long[] taken = jdbi.withHandle(h -> h.createQuery(
                        "SELECT coalesce((SELECT used_bytes FROM artifact_usage WHERE org_id = :org), 0), ("
                                + ArtifactDao.ROOM_TAKEN + ")")
                .bind("org", orgId)
                .bind("id", artifactId)
                .map((rs, ctx) -> new long[] {rs.getLong(1), rs.getLong(2)})
                .one());
        if (taken[1] + declared > settings.quotaBytes()) {
            throw quotaExceeded(taken[0], declared);
        }
    }

    private ApiException quotaExceeded(long used, long size) {
        return ApiException.conflict(
                "quota_exceeded",
                "the upload would exceed the organization's artifact storage quota",
                orderedMap("limit_bytes", settings.quotaBytes(), "used_bytes", used, "size_bytes", size));
    }

    private void commit(
            Handle h,
            String id,
            ProjectRow project,
            String leaseToken,
            Lease lease,
            Fields f,
            String fileType,
            long size,
            String sha) {
        Lease still = lease(h, leaseToken);
        if (still == null || !still.jobId().equals(lease.jobId())) {
            throw leaseLost();
        }
        h.createUpdate(ArtifactDao.ENSURE_USAGE).bind("org", project.orgId()).execute();
        long used = h.createQuery(ArtifactDao.LOCK_USAGE)
                .bind("org", project.orgId())
                .mapTo(Long.class)
                .one();
        if (used + size > settings.quotaBytes()) {
            throw quotaExceeded(used, size);
        }
        h.createUpdate(ArtifactDao.ADD_USAGE)
                .bind("org", project.orgId())
                .bind("bytes", size)
                .bind("count", 1)
                .execute();
        OffsetDateTime now = Times.now();
        OffsetDateTime expires = null;
        if (f.retainForSeconds != null) {
            expires = now.plusSeconds(f.retainForSeconds);
        }
        if (f.retainUntil != null && (expires == null || f.retainUntil.isBefore(expires))) {
            expires = f.retainUntil;
        }
        String mime = f.mime != null
                ? f.mime
                : fileType != null && MIME.matcher(fileType.trim()).matches()
                        ? fileType.trim()
                        : "application/octet-stream";
        h.createUpdate(ArtifactDao.COMMIT)
                .bind("id", id)
                .bind("name", f.name)
                .bind("mime", mime)
                .bind("size", size)
                .bind("sha", sha)
                .bind("tags", json(f.tags))
                .bind("retainFor", f.retainForSeconds)
                .bind("retainUntil", f.retainUntil)
                .bind("now", now)
                .bind("expires", expires)
                .execute();
    }

    private void fail(String id) {
        try {
            jdbi.useHandle(h -> h.createUpdate(ArtifactDao.FAIL).bind("id", id).execute());
        } catch (RuntimeException ignored) {
            // the database is gone: the sweeper marks the upload failed once it is back
        }
    }

    private static String text(InputStream in, String field) throws IOException {
        byte[] bytes = in.readNBytes(FIELD_MAX_BYTES + 1);
        if (bytes.length > FIELD_MAX_BYTES) {
            throw ApiException.validation(field, "is longer than " + FIELD_MAX_BYTES + " bytes");
        }
        return new String(bytes, StandardCharsets.UTF_8);
    }

    private void read(Fields f, String field, String value) {
        String v = value.trim();
        switch (field) {
            case "name" -> {
                if (value.isEmpty() || value.length() > 256) {
                    f.errors.add(new ApiException.FieldError("name", "size must be between 1 and 256"));
                } else if (value.indexOf('\0') >= 0) {
                    f.errors.add(new ApiException.FieldError("name", "must not contain NUL"));
                } else {
                    f.name = value;
                }
            }
            case "mime" -> {
                if (v.length() > 255 || !MIME.matcher(v).matches()) {
                    f.errors.add(new ApiException.FieldError("mime", "must be a media type such as text/plain"));
                } else {
                    f.mime = v;
                }
            }
            case "size_bytes" -> f.sizeBytes = number(f, field, v);
            case "retain_for_seconds" -> f.retainForSeconds = number(f, field, v);
            case "retain_until" -> {
                try {
                    f.retainUntil = OffsetDateTime.parse(v).withOffsetSameInstant(ZoneOffset.UTC);
                } catch (DateTimeParseException e) {
                    f.errors.add(new ApiException.FieldError(field, "must be an RFC 3339 date-time"));
                }
            }
            case "tags" -> f.tags = tags(f, v);
            default -> throw new IllegalStateException(field);
        }
    }

    private static Long number(Fields f, String field, String v) {
        try {
            long n = Long.parseLong(v);
            if (n < 0) {
                f.errors.add(new ApiException.FieldError(field, "must be greater than or equal to 0"));
                return null;
            }
            return n;
        } catch (NumberFormatException e) {
            f.errors.add(new ApiException.FieldError(field, "has the wrong type"));
            return null;
        }
    }

    private Map<String, String> tags(Fields f, String v) {
        Map<String, String> tags;
        try {
            JsonNode tree = mapper.readTree(v);
            if (tree == null || !tree.isObject()) {
                f.errors.add(new ApiException.FieldError("tags", "has the wrong type"));
                return Map.of();
            }
            tags = mapper.convertValue(tree, TAGS);
        } catch (JsonProcessingException | IllegalArgumentException e) {
            f.errors.add(new ApiException.FieldError("tags", "must be a JSON object of strings"));
            return Map.of();
        }
        if (tags.size() > 8) {
            f.errors.add(new ApiException.FieldError("tags", "size must be between 0 and 8"));
        }
        tags.forEach((k, value) -> {
            if (k.isEmpty() || k.length() > 128) {
                f.errors.add(new ApiException.FieldError("tags." + k, "key size must be between 1 and 128"));
            } else if (k.startsWith("mobius:")) {
                f.errors.add(new ApiException.FieldError("tags." + k, "mobius: keys are reserved"));
            } else if (value == null || value.length() > 256) {
                f.errors.add(new ApiException.FieldError("tags." + k, "must be a string of at most 256 characters"));
            }
        });
        return tags;
    }

    // ---- reads --------------------------------------------------------------------------------

    static ArtifactRow find(Handle h, String id) {
        return h.createQuery(ArtifactDao.FIND)
                .bind("id", id)
                .map(ArtifactRow.MAPPER)
                .findOne()
                .orElse(null);
    }

    private ArtifactRow visible(Caller caller, String projectRef, String id) {
        return jdbi.withHandle(h -> {
            ProjectRow project = ProjectAccess.require(h, caller, projectRef);
            return h.createQuery(ArtifactDao.FIND_IN_PROJECT)
                    .bind("id", id)
                    .bind("project", project.id())
                    .map(ArtifactRow.MAPPER)
                    .findOne()
                    .filter(a -> "shared".equals(a.visibility())
                            || caller.principalId().equals(a.ownerId()))
                    .orElseThrow(() -> ApiException.notFound("artifact \"" + id + "\" not found"));
        });
    }

    static ApiException notAvailable(ArtifactRow a) {
        return ApiException.conflict(
                "artifact_not_available",
                "artifact \"" + a.id() + "\" is " + a.state(),
                orderedMap("state", a.state()));
    }

    public Artifact get(Caller caller, String projectRef, String id) {
        return view(visible(caller, projectRef, id));
    }

    public ArtifactListResponse list(
            Caller caller,
            String projectRef,
            String runId,
            String stepId,
            String mime,
            ArtifactState state,
            String cursor,
            Integer limit) {
        int n = limit == null ? 50 : limit;
        return jdbi.withHandle(h -> {
            ProjectRow project = ProjectAccess.require(h, caller, projectRef);
            String scope = String.join(
                    "\0",
                    "artifacts",
                    project.id(),
                    String.valueOf(runId),
                    String.valueOf(stepId),
                    String.valueOf(mime),
                    String.valueOf(state));
            String after = cursors.decode(scope, cursor);
            StringBuilder sql = new StringBuilder("SELECT ")
                    .append(ArtifactDao.COLUMNS)
                    .append(
                            " FROM artifacts WHERE project_id = :project AND (visibility = 'shared' OR owner_id = :caller)");
            if (runId != null) {
                sql.append(" AND run_id = :run");
            }
            if (stepId != null) {
                sql.append(" AND step_id = :step");
            }
            if (mime != null) {
                sql.append(" AND mime_type = :mime");
            }
            String s = state == null ? null : state.toString();
            if (s == null) {
                sql.append(" AND state IN ('pending_upload', 'available', 'expired')");
            } else if (s.equals("available")) {
                sql.append(" AND state = 'available' AND (expires_at IS NULL OR expires_at > clock_timestamp())");
            } else if (s.equals("expired")) {
                sql.append(" AND (state = 'expired' OR (state = 'available' AND expires_at <= clock_timestamp()))");
            } else {
                sql.append(" AND state = :state");
            }
            OffsetDateTime afterAt = null;
            String afterId = null;
            if (after != null) {
                int colon = after.indexOf(':');
                try {
                    long micros = Long.parseLong(after.substring(0, colon));
                    afterAt = OffsetDateTime.ofInstant(Instant.EPOCH.plus(micros, ChronoUnit.MICROS), ZoneOffset.UTC);
                    afterId = after.substring(colon + 1);
                } catch (RuntimeException e) {
                    throw Cursors.invalid();
                }
                sql.append(" AND (created_at, id) < (:afterAt, :afterId)");
            }
            sql.append(" ORDER BY created_at DESC, id DESC LIMIT :n");
            Query q = h.createQuery(sql.toString())
                    .bind("project", project.id())
                    .bind("caller", caller.principalId())
                    .bind("n", n + 1);
            if (runId != null) {
                q.bind("run", runId);
            }
            if (stepId != null) {
                q.bind("step", stepId);
            }
            if (mime != null) {
                q.bind("mime", mime);
            }
            if (s != null && !s.equals("available") && !s.equals("expired")) {
                q.bind("state", s);
            }
            if (afterAt != null) {
                q.bind("afterAt", afterAt).bind("afterId", afterId);
            }
            List<ArtifactRow> rows = q.map(ArtifactRow.MAPPER).list();
            boolean more = rows.size() > n;
            List<ArtifactRow> kept = more ? rows.subList(0, n) : rows;
            ArtifactListResponse out = new ArtifactListResponse()
                    .items(new ArrayList<>(kept.stream().map(this::view).toList()))
                    .hasMore(more);
            if (more) {
                ArtifactRow last = kept.get(kept.size() - 1);
                Instant at = last.createdAt().toInstant();
                long micros = ChronoUnit.MICROS.between(Instant.EPOCH, at);
                out.nextCursor(cursors.encode(scope, micros + ":" + last.id()));
            }
            return out;
        });
    }

    /** An available artifact and how to answer a read of it ({@code Range} applied). */
    public record Content(ArtifactRow artifact, ContentPlan plan) {}

    public Content content(Caller caller, String projectRef, String id, String range) {
        ArtifactRow a = visible(caller, projectRef, id);
        if (!a.available()) {
            throw notAvailable(a);
        }
        return new Content(a, ContentPlan.of(a, range));
    }

    /** The content a signed URL grants, or the refusal ({@code url_expired}, {@code invalid_signature}). */
    public Content signedContent(String token, String range) {
        SignedUrls.Grant grant = signedUrls.verify(token);
        if (grant == null) {
            throw ApiException.forbidden("invalid_signature", "the download URL is not one this server signed");
        }
        if (grant.expiresEpochSecond() < Instant.now().getEpochSecond()) {
            throw ApiException.forbidden("url_expired", "the download URL has expired");
        }
        ArtifactRow a = jdbi.withHandle(h -> find(h, grant.artifactId()));
        if (a == null) {
            throw ApiException.notFound("artifact \"" + grant.artifactId() + "\" not found");
        }
        if (!a.available()) {
            throw notAvailable(a);
        }
        return new Content(a, ContentPlan.of(a, range));
    }

    /** Writes the planned bytes of an artifact. */
    public void write(Content content, OutputStream out) throws IOException {
        ContentPlan plan = content.plan();
        if (plan.last() >= plan.first()) {
            storage.read(content.artifact().id(), content.artifact().chunkBytes(), plan.first(), plan.last(), out);
        }
        out.flush();
    }

    public ArtifactSignedUrl signedUrl(Caller caller, String projectRef, String id, Long ttlSeconds, String baseUri) {
        ArtifactRow a = visible(caller, projectRef, id);
        if (!a.available()) {
            throw notAvailable(a);
        }
        long ttl = Math.min(ttlSeconds == null ? DEFAULT_SIGNED_SECONDS : ttlSeconds, settings.signedUrlMaxSeconds());
        long expires = Instant.now().getEpochSecond() + ttl;
        if (a.expiresAt() != null) {
            expires = Math.min(expires, a.expiresAt().toEpochSecond());
        }
        String base = baseUri.endsWith("/") ? baseUri.substring(0, baseUri.length() - 1) : baseUri;
        return new ArtifactSignedUrl()
                .url(base + SignedUrls.PATH + "/" + signedUrls.token(a.id(), expires))
                .method(ArtifactSignedUrl.MethodEnum.GET)
                .expiresAt(OffsetDateTime.ofInstant(Instant.ofEpochSecond(expires), ZoneOffset.UTC));
    }

    // ---- delete, retention, sweeping -------------------------------------------------------

    public void delete(Caller caller, String projectRef, String id) {
        ArtifactRow seen = visible(caller, projectRef, id);
        if (!seen.available()) {
            throw notAvailable(seen);
        }
        boolean done = jdbi.inTransaction(h -> retire(h, id, "deleted", caller.principalId()));
        if (!done) {
            throw notAvailable(jdbi.withHandle(h -> find(h, id)));
        }
    }

    /**
     * An available artifact leaves: its state, its bytes and its room in the quota change together.
     * Returns false when it was not available any more.
     */
    private boolean retire(Handle h, String id, String state, String by) {
        ArtifactRow a = h.createQuery(ArtifactDao.LOCK_AVAILABLE)
                .bind("id", id)
                .map(ArtifactRow.MAPPER)
                .findOne()
                .orElse(null);
        if (a == null || ("deleted".equals(state) && a.lapsed())) {
            return false;
        }
        h.createUpdate(ArtifactDao.RETIRE)
                .bind("id", id)
                .bind("state", state)
                .bind("now", Times.now())
                .bind("by", by)
                .execute();
        h.createUpdate(ArtifactDao.ADD_USAGE)
                .bind("org", a.orgId())
                .bind("bytes", -a.sizeBytes())
                .bind("count", -1)
                .execute();
        storage.delete(h, id);
        return true;
    }

    /**
     * One round of the sweeper: artifacts whose retention ran out become {@code expired} (bytes
     * removed, quota released), and uploads abandoned by a server that stopped become {@code failed}.
     * Returns whether it found anything.
     */
    public boolean sweep() {
        int expired = jdbi.inTransaction(h -> {
            List<String> lapsed = h.createQuery(ArtifactDao.LAPSED)
                    .bind("batch", 20)
                    .map((rs, ctx) -> rs.getString("id"))
                    .list();
            int n = 0;
            for (String id : lapsed) {
                if (retire(h, id, "expired", null)) {
                    n++;
                }
            }
            return n;
        });
        int abandoned = jdbi.inTransaction(h -> {
            List<String> stale = h.createQuery(ArtifactDao.ABANDONED)
                    .bind("grace", settings.orphanGraceSeconds())
                    .bind("batch", 20)
                    .map((rs, ctx) -> rs.getString("id"))
                    .list();
            for (String id : stale) {
                h.createUpdate(ArtifactDao.FAIL).bind("id", id).execute();
                storage.delete(h, id);
            }
            return stale.size();
        });
        return expired + abandoned > 0;
    }

    public ArtifactQuotaUsage quota(Caller caller, String projectRef) {
        return jdbi.withHandle(h -> {
            ProjectRow project = ProjectAccess.require(h, caller, projectRef);
            return h.createQuery(ArtifactDao.USAGE)
                    .bind("org", project.orgId())
                    .map((rs, ctx) -> new ArtifactQuotaUsage()
                            .orgId(project.orgId())
                            .usedBytes(rs.getLong("used_bytes"))
                            .limitBytes(settings.quotaBytes())
                            .artifactCount(rs.getLong("artifact_count"))
                            .pendingCount(rs.getLong("pending_count"))
                            .generatedAt(Times.now()))
                    .one();
        });
    }

    // ---- views --------------------------------------------------------------------------------

    Artifact view(ArtifactRow a) {
        Artifact out = new Artifact()
                .id(a.id())
                .orgId(a.orgId())
                .projectId(a.projectId())
                .ownerId(a.ownerId())
                .visibility(ArtifactVisibility.fromValue(a.visibility()))
                .runId(a.runId())
                .stepId(a.stepId())
                .name(a.name())
                .mimeType(a.mimeType())
                .sizeBytes(a.sizeBytes())
                .sha256(a.sha256())
                .storage(ArtifactStorageBackend.fromValue(a.storage()))
                .state(ArtifactState.fromValue(a.state()))
                .createdAt(a.createdAt())
                .createdBy(a.createdBy())
                .updatedAt(a.updatedAt())
                .updatedBy(a.updatedBy())
                .committedAt(a.committedAt())
                .expiresAt(a.expiresAt())
                .deletedAt(a.deletedAt());
        try {
            out.tags(a.tagsJson() == null ? Map.of() : new LinkedHashMap<>(mapper.readValue(a.tagsJson(), TAGS)));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        return out;
    }

    private String json(Object value) {
        try {
            return mapper.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(e);
        }
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static Map<String, Object> orderedMap(Object... keyValues) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < keyValues.length; i += 2) {
            m.put((String) keyValues[i], keyValues[i + 1]);
        }
        return m;
    }
}
