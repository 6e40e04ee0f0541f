package dev.mobius.server.artifacts;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How the bytes of an available artifact are answered: the status (200 whole, 206 one range), the
 * byte range and the headers. Types a browser shows without risk are {@code inline}; everything
 * else is an {@code attachment}, and {@code nosniff} always stops the browser from guessing.
 */
public record ContentPlan(int status, long first, long last, Map<String, String> headers) {
    static final Set<String> INLINE = Set.of(
            "text/plain",
            "text/markdown",
            "text/csv",
            "application/json",
            "application/pdf",
            "image/png",
            "image/jpeg",
            "image/gif",
            "image/webp");

    private static final Pattern RANGE = Pattern.compile("bytes=(\\d{0,19})-(\\d{0,19})");

    /** The range starts beyond the content: answered 416 with {@code Content-Range: bytes *}{@code /size}. */
    public static final class Unsatisfiable extends RuntimeException {
        private static final long serialVersionUID = 1L;
        private final long size;

        Unsatisfiable(long size) {
            super("the range starts beyond the artifact's " + size + " bytes", null, false, false);
            this.size = size;
        }

        public long size() {
            return size;
        }
    }

    public static ContentPlan of(ArtifactRow a, String range) {
        long size = a.sizeBytes();
        Map<String, String> h = new LinkedHashMap<>();
        h.put("Content-Type", a.mimeType());
        h.put("Content-Disposition", disposition(a));
        h.put("X-Content-Type-Options", "nosniff");
        h.put("Accept-Ranges", "bytes");
        if (a.sha256() != null) {
            h.put("ETag", "\"" + a.sha256() + "\"");
        }
        long[] r = parse(range, size);
        if (r == null) {
            h.put("Content-Length", String.valueOf(size));
            return new ContentPlan(200, 0, size - 1, h);
        }
        h.put("Content-Length", String.valueOf(r[1] - r[0] + 1));
        h.put("Content-Range", "bytes " + r[0] + "-" + r[1] + "/" + size);
        return new ContentPlan(206, r[0], r[1], h);
    }

    /** {first, last} of one satisfiable range, null to answer the whole content. */
    private static long[] parse(String range, long size) {
        if (range == null) {
            return null;
        }
        Matcher m = RANGE.matcher(range.trim());
        if (!m.matches() || (m.group(1).isEmpty() && m.group(2).isEmpty())) {
            return null; // several ranges or no sense: the whole content
        }
        try {
            if (m.group(1).isEmpty()) {
                long suffix = Long.parseLong(m.group(2));
                if (suffix == 0) {
                    throw new Unsatisfiable(size);
                }
                return size == 0 ? null : new long[] {Math.max(0, size - suffix), size - 1};
            }
            long first = Long.parseLong(m.group(1));
            long last = m.group(2).isEmpty() ? size - 1 : Math.min(Long.parseLong(m.group(2)), size - 1);
            if (first >= size) {
                throw new Unsatisfiable(size);
            }
            if (last < first) {
                return null;
            }
            return new long[] {first, last};
        } catch (NumberFormatException e) {
            return null;
        }
    }

    static boolean inline(String mime) {
        String base = mime.split(";", 2)[0].trim().toLowerCase(Locale.ROOT);
        return INLINE.contains(base);
    }

    private static String disposition(ArtifactRow a) {
        String name = a.name();
        String file = name.substring(name.lastIndexOf('/') + 1);
        if (file.isEmpty()) {
            file = "artifact";
        }
        StringBuilder ascii = new StringBuilder();
        boolean plain = true;
        for (char c : file.toCharArray()) {
            if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
                ascii.append(c);
            } else {
                ascii.append('_');
                plain = false;
            }
        }
        String value = (inline(a.mimeType()) ? "inline" : "attachment") + "; filename=\"" + ascii + "\"";
        if (!plain) {
            value += "; filename*=UTF-8''"
                    + java.net.URLEncoder.encode(file, java.nio.charset.StandardCharsets.UTF_8)
                            .replace("+", "%20");
        }
        return value;
    }
}
