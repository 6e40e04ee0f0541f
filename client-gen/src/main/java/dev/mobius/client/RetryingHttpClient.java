package dev.mobius.client;

import java.io.IOException;
import java.net.Authenticator;
import java.net.CookieHandler;
import java.net.ProxySelector;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;

/**
 * An {@link HttpClient} that sends each request again as {@link Retries} decides. The answer to a
 * retried attempt is dropped unread (its body handler is never asked), so callers only ever see
 * the answer they get: the first one that is not retried.
 */
final class RetryingHttpClient extends HttpClient {
    private final HttpClient delegate;
    private final Retries retries;

    RetryingHttpClient(HttpClient delegate, Retries retries) {
        this.delegate = delegate;
        this.retries = retries;
    }

    @Override
    public <T> HttpResponse<T> send(HttpRequest request, HttpResponse.BodyHandler<T> handler)
            throws IOException, InterruptedException {
        HttpRequest r = retries.withKey(request);
        for (int attempt = 1; ; attempt++) {
            AtomicReference<Duration> retryIn = new AtomicReference<>();
            HttpResponse<T> response;
            try {
                response = delegate.send(r, deciding(r, attempt, handler, retryIn));
            } catch (IOException e) {
                Optional<Duration> wait = retries.afterFailure(r, attempt);
                if (wait.isEmpty()) {
                    throw e;
                }
                retries.listener().retrying(new Retries.Attempt(r, attempt, 0, null, e, wait.get()));
                Thread.sleep(wait.get().toMillis());
                continue;
            }
            if (retryIn.get() == null) {
                return response;
            }
            retries.listener()
                    .retrying(new Retries.Attempt(
                            r, attempt, response.statusCode(), response.headers(), null, retryIn.get()));
            Thread.sleep(retryIn.get().toMillis());
        }
    }

    @Override
    public <T> CompletableFuture<HttpResponse<T>> sendAsync(HttpRequest request, HttpResponse.BodyHandler<T> handler) {
        return sendAsync(request, handler, null);
    }

    @Override
    public <T> CompletableFuture<HttpResponse<T>> sendAsync(
            HttpRequest request,
            HttpResponse.BodyHandler<T> handler,
            HttpResponse.PushPromiseHandler<T> pushPromiseHandler) {
        return attempt(retries.withKey(request), 1, handler, pushPromiseHandler);
    }

    private <T> CompletableFuture<HttpResponse<T>> attempt(
            HttpRequest r, int attempt, HttpResponse.BodyHandler<T> handler, HttpResponse.PushPromiseHandler<T> push) {
        AtomicReference<Duration> retryIn = new AtomicReference<>();
        return delegate.sendAsync(r, deciding(r, attempt, handler, retryIn), push)
                .handle((response, error) -> {
                    Throwable cause =
                            error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
                    Duration wait;
                    if (cause != null) {
                        Optional<Duration> w =
                                cause instanceof IOException ? retries.afterFailure(r, attempt) : Optional.empty();
                        if (w.isEmpty()) {
                            return CompletableFuture.<HttpResponse<T>>failedFuture(cause);
                        }
                        wait = w.get();
                        retries.listener().retrying(new Retries.Attempt(r, attempt, 0, null, cause, wait));
                    } else if (retryIn.get() == null) {
                        return CompletableFuture.completedFuture(response);
                    } else {
                        wait = retryIn.get();
                        retries.listener()
                                .retrying(new Retries.Attempt(
                                        r, attempt, response.statusCode(), response.headers(), null, wait));
                    }
                    Executor later = CompletableFuture.delayedExecutor(wait.toMillis(), TimeUnit.MILLISECONDS);
                    return CompletableFuture.supplyAsync(() -> attempt(r, attempt + 1, handler, push), later)
                            .thenCompose(f -> f);
                })
                .thenCompose(f -> f);
    }

    /**
     * Decides on the status line, before the body: an answer that will be retried has its body
     * discarded; any other goes to the caller's handler.
     */
    private <T> HttpResponse.BodyHandler<T> deciding(
            HttpRequest r, int attempt, HttpResponse.BodyHandler<T> handler, AtomicReference<Duration> retryIn) {
        return info -> {
            Optional<Duration> wait = retries.afterAnswer(r, attempt, info.statusCode(), info.headers());
            if (wait.isPresent()) {
                retryIn.set(wait.get());
                return HttpResponse.BodySubscribers.replacing(null);
            }
            return handler.apply(info);
        };
    }

    // ---- the rest is the wrapped client's -----------------------------------------------------

    @Override
    public Optional<CookieHandler> cookieHandler() {
        return delegate.cookieHandler();
    }

    @Override
    public Optional<Duration> connectTimeout() {
        return delegate.connectTimeout();
    }

    @Override
    public Redirect followRedirects() {
        return delegate.followRedirects();
    }

    @Override
    public Optional<ProxySelector> proxy() {
        return delegate.proxy();
    }

    @Override
    public SSLContext sslContext() {
        return delegate.sslContext();
    }

    @Override
    public SSLParameters sslParameters() {
        return delegate.sslParameters();
    }

    @Override
    public Optional<Authenticator> authenticator() {
        return delegate.authenticator();
    }

    @Override
    public Version version() {
        return delegate.version();
    }

    @Override
    public Optional<Executor> executor() {
        return delegate.executor();
    }

    @Override
    public WebSocket.Builder newWebSocketBuilder() {
        return delegate.newWebSocketBuilder();
    }

    /**
     * Builds one retrying client from a builder and hands that same client out until a setting
     * changes: the generated API objects then share its connections.
     */
    static final class Builder implements HttpClient.Builder {
        private final HttpClient.Builder delegate;
        private final Retries retries;
        private HttpClient built;

        Builder(HttpClient.Builder delegate, Retries retries) {
            this.delegate = delegate;
            this.retries = retries;
        }

        private Builder changed() {
            built = null;
            return this;
        }

        @Override
        public synchronized HttpClient build() {
            if (built == null) {
                built = new RetryingHttpClient(delegate.build(), retries);
            }
            return built;
        }

        @Override
        public synchronized Builder cookieHandler(CookieHandler cookieHandler) {
            delegate.cookieHandler(cookieHandler);
            return changed();
        }

        @Override
        public synchronized Builder connectTimeout(Duration duration) {
            delegate.connectTimeout(duration);
            return changed();
        }

        @Override
        public synchronized Builder sslContext(SSLContext sslContext) {
            delegate.sslContext(sslContext);
            return changed();
        }

        @Override
        public synchronized Builder sslParameters(SSLParameters sslParameters) {
            delegate.sslParameters(sslParameters);
            return changed();
        }

        @Override
        public synchronized Builder executor(Executor executor) {
            delegate.executor(executor);
            return changed();
        }

        @Override
        public synchronized Builder followRedirects(Redirect policy) {
            delegate.followRedirects(policy);
            return changed();
        }

        @Override
        public synchronized Builder version(Version version) {
            delegate.version(version);
            return changed();
        }

        @Override
        public synchronized Builder priority(int priority) {
            delegate.priority(priority);
            return changed();
        }

        @Override
        public synchronized Builder proxy(ProxySelector proxySelector) {
            delegate.proxy(proxySelector);
            return changed();
        }

        @Override
        public synchronized Builder authenticator(Authenticator authenticator) {
            delegate.authenticator(authenticator);
            return changed();
        }
    }
}
