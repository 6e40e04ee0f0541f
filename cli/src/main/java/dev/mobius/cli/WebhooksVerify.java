package dev.mobius.cli;

import dev.mobius.client.WebhookVerifier;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code webhooks verify}: checks a delivery's signature. Standard input holds the delivery as HTTP
 * carries it: the {@code X-Mobius-*} header lines, an empty line, then the raw body (or the body
 * alone, with the headers given as {@code --header}).
 */
@Command(
        name = "verify",
        mixinStandardHelpOptions = true,
        description = {
            "Verifies a webhook delivery read from standard input: header lines, an empty line, the raw body.",
            "Prints the body and exits 0 when the signature is good; otherwise prints"
                    + " `invalid_signature: <reason>` on stderr and exits 1."
        })
final class WebhooksVerify implements Cli.Runnable {
    @Option(
            names = "--secret",
            paramLabel = "<base64>",
            description = "The webhook's signing secret (env MOBIUS_WEBHOOK_SECRET).")
    String secret;

    @Option(
            names = "--secret-version",
            paramLabel = "<n>",
            description = "The secret's version (default: the one the delivery names).")
    Integer secretVersion;

    @Option(
            names = "--tolerance",
            paramLabel = "<seconds>",
            description = "Largest accepted clock difference (default 300).")
    long tolerance = WebhookVerifier.DEFAULT_TOLERANCE_SECONDS;

    @Option(names = "--header", paramLabel = "<name: value>", description = "A header, when stdin holds only the body.")
    List<String> headers = List.of();

    @Override
    public int run(Context ctx) throws IOException {
        String key = secret != null ? secret : ctx.env().get("MOBIUS_WEBHOOK_SECRET");
        if (key == null || key.isBlank()) {
            throw CliException.usage("the signing secret is needed: --secret or MOBIUS_WEBHOOK_SECRET");
        }
        byte[] input = ctx.in().readAllBytes();
        Map<String, String> h = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        headers.forEach(line -> header(h, line));
        byte[] body = input;
        String text = new String(input, StandardCharsets.ISO_8859_1);
        String start = text.stripLeading();
        if (!start.startsWith("{") && !start.startsWith("[") && !start.isEmpty()) {
            int end = text.indexOf("\r\n\r\n");
            int skip = 4;
            int lf = text.indexOf("\n\n");
            if (end < 0 || (lf >= 0 && lf < end)) {
                end = lf;
                skip = 2;
            }
            String head = end < 0 ? text : text.substring(0, end);
            for (String line : head.split("\r?\n")) {
                if (!line.startsWith("POST ") && !line.startsWith("HTTP/")) {
                    header(h, line);
                }
            }
            body = end < 0 ? new byte[0] : Arrays.copyOfRange(input, end + skip, input.length);
        }
        int version = secretVersion != null ? secretVersion : parseVersion(h.get("X-Mobius-Secret-Version"));
        WebhookVerifier verifier = WebhookVerifier.builder()
                .secret(null, version, key.trim())
                .toleranceSeconds(tolerance)
                .build();
        try {
            WebhookVerifier.Delivery d = verifier.verify(h::get, body);
            ctx.out().println(d.bodyAsString());
            ctx.err().println("verified delivery " + d.deliveryId() + " (" + d.eventType() + ")");
            return 0;
        } catch (WebhookVerifier.VerificationException e) {
            throw new CliException(
                    "invalid_signature",
                    e.getMessage() + " (" + e.reason().name().toLowerCase(Locale.ROOT) + ")",
                    CliException.API);
        }
    }

    private static int parseVersion(String v) {
        try {
            return v == null ? 1 : Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            return 1;
        }
    }

    private static void header(Map<String, String> h, String line) {
        int colon = line.indexOf(':');
        if (colon > 0) {
            h.put(line.substring(0, colon).trim(), line.substring(colon + 1).trim());
        }
    }
}
