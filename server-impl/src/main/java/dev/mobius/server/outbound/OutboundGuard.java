package dev.mobius.server.outbound;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;

/**
 * Keeps requests the server makes on a caller's behalf (webhooks, HTTP actions) away from the
 * server's own network: a destination whose host resolves to a loopback, link-local, private,
 * unique-local, multicast or unspecified address is refused, unless private destinations are
 * allowed ({@code MOBIUS_OUTBOUND_ALLOW_PRIVATE=true}, for local development and tests). Every
 * address the host resolves to is checked, so one public record cannot smuggle a private one.
 */
public final class OutboundGuard {
    /** Thrown for a destination the guard refuses; the message says why, for the caller. */
    public static final class Refused extends RuntimeException {
        public Refused(String message) {
            super(message);
        }
    }

    /** Thrown when the host does not resolve. */
    public static final class Unresolvable extends RuntimeException {
        public Unresolvable(String host) {
            super("could not resolve host " + host);
        }
    }

    private final boolean allowPrivate;

    public OutboundGuard(boolean allowPrivate) {
        this.allowPrivate = allowPrivate;
    }

    public boolean allowsPrivate() {
        return allowPrivate;
    }

    /**
     * @throws Refused when the scheme is not http(s) or the host resolves to a refused address
     * @throws Unresolvable when the host does not resolve
     */
    public void check(URI uri) {
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(java.util.Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https")) {
            throw new Refused("only http and https destinations are allowed");
        }
        String host = uri.getHost();
        if (host == null || host.isEmpty()) {
            throw new Refused("the URL has no host");
        }
        if (allowPrivate) {
            return;
        }
        InetAddress[] addresses;
        try {
            addresses = InetAddress.getAllByName(host);
        } catch (UnknownHostException e) {
            throw new Unresolvable(host);
        }
        for (InetAddress a : addresses) {
            if (refused(a)) {
                throw new Refused(host + " resolves to " + a.getHostAddress() + ", a non-public address");
            }
        }
    }

    static boolean refused(InetAddress a) {
        if (a.isLoopbackAddress() || a.isLinkLocalAddress() || a.isSiteLocalAddress() || a.isAnyLocalAddress()
                || a.isMulticastAddress()) {
            return true;
        }
        byte[] b = a.getAddress();
        if (a instanceof Inet4Address) {
            int first = b[0] & 0xff;
            int second = b[1] & 0xff;
            return first == 0                                   // "this network"
                    || (first == 100 && second >= 64 && second < 128) // carrier-grade NAT
                    || (first == 192 && second == 0 && (b[2] & 0xff) == 0) // IETF protocol assignments
                    || (first == 198 && (second == 18 || second == 19))   // benchmarking
                    || first >= 240;                            // reserved, broadcast
        }
        if (a instanceof Inet6Address) {
            if ((b[0] & 0xfe) == 0xfc) {
                return true; // unique local fc00::/7
            }
            boolean v4Mapped = true;
            for (int i = 0; i < 10; i++) {
                v4Mapped &= b[i] == 0;
            }
            if (v4Mapped && (b[10] & 0xff) == 0xff && (b[11] & 0xff) == 0xff) {
                try {
                    return refused(InetAddress.getByAddress(new byte[] {b[12], b[13], b[14], b[15]}));
                } catch (UnknownHostException e) {
                    return true;
                }
            }
        }
        return false;
    }
}
