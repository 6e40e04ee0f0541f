package dev.mobius.server.db;

import java.util.EnumSet;
import java.util.HashMap;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.core.config.ConfigRegistry;
import org.jdbi.v3.core.config.JdbiConfig;
import org.jdbi.v3.core.extension.ExtensionContext;
import org.jdbi.v3.core.extension.ExtensionFactory;
import org.jdbi.v3.core.extension.Extensions;
import org.jdbi.v3.core.extension.HandleSupplier;

/**
 * The SQL objects a handle uses, attached once per node and lent to one handle at a time.
 *
 * <p>Attaching a SQL object builds, for every method of its interface, a configuration copy and a
 * warmed statement handler: for the larger DAOs that cost far more than the one statement a request
 * usually runs through them (a fifth of a {@code GET run}, measured). So an attached object is not
 * thrown away with its handle: it is attached through a {@link Lent} supplier, which points at
 * the handle it is lent to, and goes back to an idle queue when that handle closes, to be lent to
 * the next handle that asks for its type. Between those two moments it belongs to that one handle
 * (and so to one thread), exactly like an object attached the usual way; using it after its handle
 * closed fails as loudly as before.
 *
 * <p>The state lives in the handle's configuration: every handle starts with an empty set of lent
 * objects and shares the idle queues of its {@code Jdbi}. {@link #install} registers the small
 * extension that tells this class a handle's own supplier.
 */
public final class Daos implements JdbiConfig<Daos> {
    /** Attached objects not lent to any handle, by type; one set per {@code Jdbi}, shared by its handles. */
    private final Map<Class<?>, Queue<Lent>> idle;

    /** The handle whose objects {@link #lent} holds (configurations are copied and may outlive a handle). */
    private Handle owner;

    /** The owner's own supplier, which sets up each SQL object call on it. */
    private HandleSupplier own;

    private Map<Class<?>, Lent> lent = Map.of();

    public Daos() {
        this(new ConcurrentHashMap<>());
    }

    private Daos(Map<Class<?>, Queue<Lent>> idle) {
        this.idle = idle;
    }

    /** Registers what {@link #of} needs on {@code jdbi}. */
    public static Jdbi install(Jdbi jdbi) {
        return jdbi.registerExtension(new OwnSupplier.Factory());
    }

    /** The handle's instance of the SQL object {@code type}, lent to it until it closes. */
    public static <T> T of(Handle h, Class<T> type) {
        return type.cast(h.getConfig(Daos.class).lend(h, type));
    }

    private Object lend(Handle h, Class<?> type) {
        if (owner != h) {
            owner = h;
            own = h.attach(OwnSupplier.class).supplier;
            lent = new HashMap<>();
        }
        Lent dao = lent.get(type);
        if (dao == null) {
            dao = idle.computeIfAbsent(type, t -> new ConcurrentLinkedQueue<>()).poll();
            if (dao == null) {
                dao = new Lent(type, own);
            } else {
                dao.lendTo(own);
            }
            if (lent.isEmpty()) {
                Map<Class<?>, Lent> toGiveBack = lent;
                h.addCleanable(() -> toGiveBack.values().forEach(d -> d.giveBack(idle)));
            }
            lent.put(type, dao);
        }
        return dao.instance;
    }

    @Override
    public Daos createCopy() {
        // A copy belongs to another handle (or statement): it lends nothing yet, and shares the idle objects.
        return new Daos(idle);
    }

    /**
     * One attached SQL object and the supplier it was attached through, which forwards to the
     * supplier of the handle it is lent to.
     */
    private static final class Lent implements HandleSupplier {
        private final Class<?> type;
        private final Object instance;
        private HandleSupplier current;

        Lent(Class<?> type, HandleSupplier own) {
            this.type = type;
            this.current = own;
            this.instance = own.getConfig()
                    .get(Extensions.class)
                    .findFor(type, this)
                    .orElseThrow(() -> new IllegalArgumentException(type + " is not a SQL object"));
        }

        void lendTo(HandleSupplier own) {
            current = own;
        }

        void giveBack(Map<Class<?>, Queue<Lent>> idle) {
            current = null;
            idle.get(type).offer(this);
        }

        private HandleSupplier current() {
            HandleSupplier supplier = current;
            if (supplier == null) {
                throw new IllegalStateException(type.getSimpleName() + " used after its handle was closed");
            }
            return supplier;
        }

        @Override
        public Handle getHandle() {
            return current().getHandle();
        }

        @Override
        public Jdbi getJdbi() {
            return current().getJdbi();
        }

        @Override
        public ConfigRegistry getConfig() {
            return current().getConfig();
        }

        @Override
        public <V> V invokeInContext(ExtensionContext context, Callable<V> task) throws Exception {
            return current().invokeInContext(context, task);
        }

        @Override
        public void close() {
            // The handle is closed by whoever opened it, never through an object lent to it.
        }
    }

    /** Attached to a handle, hands over the handle's own supplier (which sets up each SQL object call). */
    static final class OwnSupplier {
        final HandleSupplier supplier;

        private OwnSupplier(HandleSupplier supplier) {
            this.supplier = supplier;
        }

        static final class Factory implements ExtensionFactory {
            @Override
            public boolean accepts(Class<?> extensionType) {
                return extensionType == OwnSupplier.class;
            }

            @Override
            public <E> E attach(Class<E> extensionType, HandleSupplier handleSupplier) {
                return extensionType.cast(new OwnSupplier(handleSupplier));
            }

            @Override
            public Set<FactoryFlag> getFactoryFlags() {
                return EnumSet.of(FactoryFlag.DONT_USE_PROXY);
            }
        }
    }
}
