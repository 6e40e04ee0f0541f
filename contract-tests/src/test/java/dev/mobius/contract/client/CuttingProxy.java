package dev.mobius.contract.client;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A TCP proxy on loopback in front of the server, for losing connections on purpose: it can cut
 * every open connection, or cut the connection that carries the next answer before a byte of it
 * reaches the client (the server has acted; the client never learns). It notes the request line
 * and a few headers of every HTTP/1.1 request that passes.
 */
final class CuttingProxy implements AutoCloseable {
    private static final Set<String> NOTED = Set.of("idempotency-key", "last-event-id");

    /** A request as it passed: {@code POST /v1/...} and the noted headers (lower-case names). */
    record Seen(String line, Map<String, String> headers) {}

    private final ServerSocket listener;
    private final int target;
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private final List<Seen> seen = new CopyOnWriteArrayList<>();
    private final AtomicInteger connections = new AtomicInteger();
    private final AtomicInteger answersToCut = new AtomicInteger();
    private final Thread acceptor;

    CuttingProxy(int targetPort) throws IOException {
        this.target = targetPort;
        this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        this.acceptor = new Thread(this::accept, "cutting-proxy");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    String baseUrl() {
        return "http://127.0.0.1:" + listener.getLocalPort();
    }

    int connections() {
        return connections.get();
    }

    List<Seen> seen() {
        return List.copyOf(seen);
    }

    /** Closes every connection open now, both sides. */
    void cutAll() {
        for (Socket s : open) {
            close(s);
        }
    }

    /** The next {@code n} answers are not passed on: their connections are closed instead. */
    void cutNextAnswers(int n) {
        answersToCut.set(n);
    }

    private void accept() {
        while (!listener.isClosed()) {
            try {
                Socket client = listener.accept();
                Socket server = new Socket(InetAddress.getLoopbackAddress(), target);
                connections.incrementAndGet();
                open.add(client);
                open.add(server);
                pump(client, server, true);
                pump(server, client, false);
            } catch (IOException e) {
                // closed, or the server is gone: the client sees its connection fail
            }
        }
    }

    private void pump(Socket from, Socket to, boolean requests) {
        Thread t = new Thread(
                () -> {
                    StringBuilder text = new StringBuilder();
                    Seen[] current = {null};
                    long[] body = {0, 0}; // the current request's Content-Length; body characters still to skip
                    byte[] buf = new byte[8192];
                    try (InputStream in = from.getInputStream();
                            OutputStream out = to.getOutputStream()) {
                        for (int n; (n = in.read(buf)) >= 0; ) {
                            if (requests) {
                                note(text, new String(buf, 0, n, StandardCharsets.ISO_8859_1), current, body);
                            } else if (answersToCut.getAndUpdate(c -> Math.max(0, c - 1)) > 0) {
                                break;
                            }
                            out.write(buf, 0, n);
                            out.flush();
                        }
                    } catch (IOException e) {
                        // one side closed or was cut
                    } finally {
                        close(from);
                        close(to);
                    }
                },
                "cutting-proxy-pump");
        t.setDaemon(true);
        t.start();
    }

    /** Request lines and noted headers, read line by line from what the client sends (bodies skipped). */
    private void note(StringBuilder text, String chunk, Seen[] current, long[] body) {
        text.append(chunk);
        while (true) {
            if (body[1] > 0) {
                int skip = (int) Math.min(body[1], text.length());
                text.delete(0, skip);
                body[1] -= skip;
                if (body[1] > 0) {
                    return;
                }
            }
            int end = text.indexOf("\r\n");
            if (end < 0) {
                return;
            }
            String line = text.substring(0, end);
            text.delete(0, end + 2);
            if (line.matches("^(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) \\S+ HTTP/1\\.1$")) {
                current[0] = new Seen(line.substring(0, line.lastIndexOf(' ')), new LinkedHashMap<>());
                seen.add(current[0]);
                body[0] = 0;
            } else if (current[0] != null && line.indexOf(':') > 0) {
                String name = line.substring(0, line.indexOf(':')).trim().toLowerCase(Locale.ROOT);
                String value = line.substring(line.indexOf(':') + 1).trim();
                if (NOTED.contains(name)) {
                    current[0].headers().put(name, value);
                } else if (name.equals("content-length")) {
                    body[0] = Long.parseLong(value);
                }
            } else if (line.isEmpty() && current[0] != null) {
                current[0] = null;
                body[1] = body[0];
            }
        }
    }

    private void close(Socket s) {
        open.remove(s);
        try {
            s.close();
        } catch (IOException e) {
            // already closed
        }
    }

    @Override
    public void close() throws IOException {
        listener.close();
        for (Socket s : new ArrayList<>(open)) {
            close(s);
        }
    }
}
