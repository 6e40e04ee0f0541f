package dev.mobius.server.db;

import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;

/**
 * Tells a lost database apart from every other failure: the pool timing out on a connection, a
 * connection refused or cut (SQLState class 08), or PostgreSQL shutting down, crashed or still
 * recovering (57P01-57P03), anywhere in the cause chain.
 */
public final class DatabaseFailures {
    private DatabaseFailures() {}

    public static boolean isUnavailable(Throwable failure) {
        int depth = 0;
        for (Throwable t = failure; t != null && depth < 20; t = t.getCause(), depth++) {
            if (t instanceof SQLTransientConnectionException) {
                return true;
            }
            if (t instanceof SQLException sql && unavailableState(sql.getSQLState())) {
                return true;
            }
        }
        return false;
    }

    private static boolean unavailableState(String state) {
        return state != null
                && (state.startsWith("08") || state.equals("57P01") || state.equals("57P02") || state.equals("57P03"));
    }
}
