package dev.mobius.server.outbound;

import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;

/**
 * Decides whether the server may call a URL on someone's behalf. By default a URL whose host
 * resolves to a loopback, link-local, private (site-local), unique-local, multicast or wildcard
 * address is refused, so actions and webhooks cannot be pointed at the server's own network;
 * {@code allowPrivate} lifts that for tests and local development.
 */
public final class OutboundGuard {
    private final boolean allowPrivate;

    public OutboundGuard(boolean allowPrivate) {
        this.allowPrivate = allowPrivate;
    }

    public boolean allowPrivate() {
        return allowPrivate;
    }

    /** @throws Refused with the reason when the URL may not be called */
    public void check(URI uri) {
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(java.util.Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https")) {
            throw new Refused("only http and https URLs may be called, not " + uri);
        }
        String host = uri.getHost();
        if (host == null || host.isBlank()) {
            throw new Refused("the URL " + uri + " has no host");
        }
        InetAddress[] addresses;
        try {
            addresses = InetAddress.getAllByName(host);
        } catch (UnknownHostException e) {
            throw new Unresolvable("could not resolve host " + host);
        }
        if (allowPrivate) {
            return;
        }
        for (InetAddress address : addresses) {
            String kind = privateKind(address);
            if (kind != null) {
                throw new Refused("calls to " + kind + " addresses are not allowed (" + host + " is "
                        + address.getHostAddress() + "); set MOBIUS_OUTBOUND_ALLOW_PRIVATE=true to allow them");
            }
        }
    }

    /**
     * The reason a URL given at create or update is refused, or empty. A host that does not
     * resolve now is accepted: it is refused at call time if it still does not.
     */
    public java.util.Optional<String> checkAtCreate(URI uri) {
        try {
            check(uri);
            return java.util.Optional.empty();
        } catch (Unresolvable e) {
            return java.util.Optional.empty();
        } catch (Refused e) {
            return java.util.Optional.of(e.getMessage());
        }
    }

    private static String privateKind(InetAddress a) {
        if (a.isLoopbackAddress()) {
            return "loopback";
        }
        if (a.isLinkLocalAddress()) {
            return "link-local";
        }
        if (a.isSiteLocalAddress()) {
            return "private";
        }
        if (a.isAnyLocalAddress()) {
            return "wildcard";
        }
        if (a.isMulticastAddress()) {
            return "multicast";
        }
        byte[] b = a.getAddress();
        if (b.length == 16 && (b[0] & 0xfe) == 0xfc) {
            return "unique-local";
        }
        if (b.length == 4 && (b[0] & 0xff) == 100 && (b[1] & 0xc0) == 64) {
            return "private"; // 100.64.0.0/10, carrier-grade NAT
        }
        return null;
    }

    /** A URL the guard refuses; the message says why. */
    public static class Refused extends RuntimeException {
        public Refused(String message) {
            super(message, null, false, false);
        }
    }

    /** A host that does not resolve now: refused, but it may resolve later (a retry can help). */
    public static final class Unresolvable extends Refused {
        public Unresolvable(String message) {
            super(message);
        }
    }
}
