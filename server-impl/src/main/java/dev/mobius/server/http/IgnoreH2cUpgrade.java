package dev.mobius.server.http;

import java.io.IOException;
import org.glassfish.grizzly.filterchain.BaseFilter;
import org.glassfish.grizzly.filterchain.FilterChainBuilder;
import org.glassfish.grizzly.filterchain.FilterChainContext;
import org.glassfish.grizzly.filterchain.FilterChainEvent;
import org.glassfish.grizzly.filterchain.NextAction;
import org.glassfish.grizzly.http.HttpEvents;
import org.glassfish.grizzly.http.HttpHeader;
import org.glassfish.grizzly.http.server.AddOn;
import org.glassfish.grizzly.http.server.HttpServerFilter;
import org.glassfish.grizzly.http.server.NetworkListener;

/**
 * Serves {@code Upgrade: h2c} requests as plain HTTP/1.1. Java's HttpClient (and so the
 * generated client) asks for h2c on every request; Grizzly marks such a request as upgrading and
 * stops delimiting its body by Content-Length, so a POST would wait for more bytes until it times
 * out. Declining the upgrade is what RFC 9110 allows and what every client copes with.
 * Other upgrades (WebSocket) pass through untouched.
 */
public final class IgnoreH2cUpgrade implements AddOn {
    @Override
    public void setup(NetworkListener listener, FilterChainBuilder builder) {
        builder.add(builder.indexOfType(HttpServerFilter.class), new BaseFilter() {
            @Override
            public NextAction handleEvent(FilterChainContext ctx, FilterChainEvent event) throws IOException {
                if (event.type() == HttpEvents.IncomingHttpUpgradeEvent.TYPE) {
                    HttpHeader header = ((HttpEvents.IncomingHttpUpgradeEvent) event).getHttpHeader();
                    if ("h2c".equalsIgnoreCase(header.getUpgrade())) {
                        header.setIgnoreContentModifiers(false);
                        header.getUpgradeDC().recycle();
                    }
                }
                return ctx.getInvokeAction();
            }
        });
    }
}
