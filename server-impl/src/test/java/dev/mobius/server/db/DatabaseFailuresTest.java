package dev.mobius.server.db;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import org.jdbi.v3.core.ConnectionException;
import org.junit.jupiter.api.Test;
import org.postgresql.util.PSQLException;
import org.postgresql.util.PSQLState;

/** Which failures mean "the database is gone" (503, back off) rather than a bug (500, log it). */
class DatabaseFailuresTest {

    @Test
    void aLostConnectionAPoolTimeoutOrAShutdownAnywhereInTheChainIsUnavailability() {
        assertTrue(DatabaseFailures.isUnavailable(
                new SQLTransientConnectionException("mobius - Connection is not available")));
        assertTrue(DatabaseFailures.isUnavailable(new ConnectionException(
                new PSQLException("Connection refused", PSQLState.CONNECTION_UNABLE_TO_CONNECT))));
        assertTrue(DatabaseFailures.isUnavailable(
                new RuntimeException(new PSQLException("An I/O error", PSQLState.CONNECTION_FAILURE))));
        assertTrue(DatabaseFailures.isUnavailable(
                new SQLException("terminating connection due to administrator command", "57P01")));
        assertTrue(
                DatabaseFailures.isUnavailable(new SQLException("the database system is in recovery mode", "57P03")));
    }

    @Test
    void otherDatabaseErrorsAreNot() {
        assertFalse(DatabaseFailures.isUnavailable(new SQLException("duplicate key", "23505")));
        assertFalse(DatabaseFailures.isUnavailable(
                new SQLException("canceling statement due to statement timeout", "57014")));
        assertFalse(DatabaseFailures.isUnavailable(new IllegalStateException("no cause")));
        assertFalse(DatabaseFailures.isUnavailable(null));
    }
}
