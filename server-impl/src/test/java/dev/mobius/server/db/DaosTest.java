package dev.mobius.server.db;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mobius.server.TestServer;
import dev.mobius.server.tenancy.ProjectDao;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.Test;

/**
 * SQL objects are attached once and lent to one handle at a time: a handle keeps the same object
 * for its whole life, a closed handle's object serves the next handle, two open handles never
 * share one, and an object kept past its handle's close refuses to run rather than running on
 * another handle.
 */
class DaosTest {
    @Test
    void objectsAreLentToOneOpenHandleAtATimeAndRefuseToRunAfterTheirHandleCloses() throws Exception {
        try (TestServer server = TestServer.start()) {
            Jdbi jdbi = server.server().database().jdbi();

            ProjectDao first;
            try (Handle h = jdbi.open()) {
                first = Daos.of(h, ProjectDao.class);
                assertSame(first, Daos.of(h, ProjectDao.class), "one object per handle and type");
                assertTrue(first.findByRef("org_none", "none").isEmpty());
                assertSame(h, first.getHandle(), "it runs on the handle it is lent to");
            }
            IllegalStateException closed =
                    assertThrows(IllegalStateException.class, () -> first.findByRef("org_none", "none"));
            assertTrue(closed.getMessage().contains("after its handle was closed"), closed.getMessage());

            try (Handle h = jdbi.open()) {
                ProjectDao again = Daos.of(h, ProjectDao.class);
                assertSame(first, again, "the closed handle's object is lent again");
                assertSame(h, again.getHandle());
                assertTrue(again.findByRef("org_none", "none").isEmpty());
            }

            // Two handles open at once, on two threads, each inside its own transaction.
            ExecutorService pool = Executors.newFixedThreadPool(2);
            try {
                CountDownLatch bothOpen = new CountDownLatch(2);
                Future<ProjectDao> a = pool.submit(() -> heldWhileTheOtherIsOpen(jdbi, bothOpen));
                Future<ProjectDao> b = pool.submit(() -> heldWhileTheOtherIsOpen(jdbi, bothOpen));
                assertNotSame(a.get(30, TimeUnit.SECONDS), b.get(30, TimeUnit.SECONDS));
            } finally {
                pool.shutdownNow();
            }

            // A transaction sees its own uncommitted change through the lent object, and a rollback keeps nothing.
            String[] project = jdbi.withHandle(h -> h.createQuery("SELECT org_id, id FROM projects LIMIT 1")
                    .map((rs, ctx) -> new String[] {rs.getString(1), rs.getString(2)})
                    .one());
            assertThrows(
                    IllegalStateException.class,
                    () -> jdbi.useTransaction(h -> {
                        h.execute(
                                "UPDATE projects SET description = 'changed in a transaction' WHERE id = ?",
                                project[1]);
                        assertEquals(
                                "changed in a transaction",
                                Daos.of(h, ProjectDao.class)
                                        .findByRef(project[0], project[1])
                                        .orElseThrow()
                                        .description());
                        throw new IllegalStateException("roll back");
                    }));
            try (Handle h = jdbi.open()) {
                assertNotEquals(
                        "changed in a transaction",
                        Daos.of(h, ProjectDao.class)
                                .findByRef(project[0], project[1])
                                .orElseThrow()
                                .description());
            }
        }
    }

    private static ProjectDao heldWhileTheOtherIsOpen(Jdbi jdbi, CountDownLatch bothOpen) throws Exception {
        return jdbi.inTransaction(h -> {
            ProjectDao dao = Daos.of(h, ProjectDao.class);
            bothOpen.countDown();
            assertTrue(bothOpen.await(10, TimeUnit.SECONDS));
            assertSame(h, dao.getHandle());
            assertTrue(dao.findByRef("org_none", "none").isEmpty());
            return dao;
        });
    }
}
