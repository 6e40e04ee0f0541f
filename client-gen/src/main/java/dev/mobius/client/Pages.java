package dev.mobius.client;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.function.Function;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

/**
 * Every item of a paged list, page after page ({@code items}, {@code has_more},
 * {@code next_cursor}), fetched lazily: a page is asked for only when the items before it have been
 * taken. Works with any generated list call, given as {@code cursor -> page}:
 *
 * <pre>{@code
 * RunsApi runs = new RunsApi(client);
 * long n = Pages.stream(cursor -> runs.listAutomationRuns("default", null, null, null, cursor, 100),
 *         AutomationRunListResponse::getItems).count();
 * }</pre>
 *
 * The first call gets a null cursor. Paging goes on while the page says {@code has_more} (or does
 * not say) and gives a {@code next_cursor}. A failing call surfaces as {@link PageFailed} from the
 * iterator or stream, with the {@link ApiException} as its cause.
 */
public final class Pages {
    private Pages() {}

    /** One call of a generated list operation. */
    @FunctionalInterface
    public interface Fetch<P> {
        P page(String cursor) throws ApiException;
    }

    /** A page could not be fetched; {@link #getCause()} is the API's answer. */
    public static final class PageFailed extends RuntimeException {
        PageFailed(ApiException cause) {
            super(cause.getMessage(), cause);
        }

        @Override
        public synchronized ApiException getCause() {
            return (ApiException) super.getCause();
        }
    }

    /** Items of pages whose type has {@code getNextCursor()} and, optionally, {@code getHasMore()}. */
    public static <P, T> Stream<T> stream(Fetch<P> fetch, Function<P, List<T>> items) {
        return stream(fetch, items, Pages::nextCursor);
    }

    /** Items of pages, with the next cursor read by {@code nextCursor} (null: no more pages). */
    public static <P, T> Stream<T> stream(Fetch<P> fetch, Function<P, List<T>> items, Function<P, String> nextCursor) {
        return StreamSupport.stream(
                Spliterators.spliteratorUnknownSize(
                        iterator(fetch, items, nextCursor), Spliterator.ORDERED | Spliterator.NONNULL),
                false);
    }

    /** The same, for {@code for (T item : Pages.iterate(...))}. */
    public static <P, T> Iterable<T> iterate(Fetch<P> fetch, Function<P, List<T>> items) {
        return () -> iterator(fetch, items, Pages::nextCursor);
    }

    private static <P, T> Iterator<T> iterator(
            Fetch<P> fetch, Function<P, List<T>> items, Function<P, String> nextCursor) {
        Objects.requireNonNull(fetch);
        Objects.requireNonNull(items);
        Objects.requireNonNull(nextCursor);
        return new Iterator<>() {
            private Iterator<T> current = null;
            private String cursor = null;
            private boolean last = false;

            @Override
            public boolean hasNext() {
                while (current == null || !current.hasNext()) {
                    if (last) {
                        return false;
                    }
                    P page;
                    try {
                        page = fetch.page(cursor);
                    } catch (ApiException e) {
                        throw new PageFailed(e);
                    }
                    List<T> list = page == null ? null : items.apply(page);
                    current = list == null ? List.<T>of().iterator() : list.iterator();
                    cursor = page == null ? null : nextCursor.apply(page);
                    last = cursor == null || cursor.isEmpty();
                }
                return true;
            }

            @Override
            public T next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                return current.next();
            }
        };
    }

    /** {@code getNextCursor()}, or null when {@code getHasMore()} is false. */
    static String nextCursor(Object page) {
        Object hasMore = call(page, "getHasMore");
        if (Boolean.FALSE.equals(hasMore)) {
            return null;
        }
        Object next = call(page, "getNextCursor");
        return next == null ? null : next.toString();
    }

    private static Object call(Object page, String getter) {
        Method m;
        try {
            m = page.getClass().getMethod(getter);
        } catch (NoSuchMethodException e) {
            if (getter.equals("getNextCursor")) {
                throw new IllegalArgumentException(
                        page.getClass().getSimpleName() + " is not a paged list (it has no next_cursor)", e);
            }
            return null;
        }
        try {
            return m.invoke(page);
        } catch (IllegalAccessException | InvocationTargetException e) {
            throw new IllegalStateException("cannot read " + getter + " of " + page.getClass(), e);
        }
    }
}
