package dev.mobius.server.events;

import java.math.BigDecimal;
import java.util.List;
import java.util.Map;

/**
 * The {@code match} object of a wait: every key is a dotted path into the event's payload, and the
 * value found there must equal the given one (numbers by value, objects and lists by content).
 */
public final class Matches {
    private Matches() {}

    public static boolean all(Map<String, Object> match, Map<String, Object> payload) {
        for (Map.Entry<String, Object> e : match.entrySet()) {
            if (!same(at(payload, e.getKey()), e.getValue())) {
                return false;
            }
        }
        return true;
    }

    static Object at(Map<String, Object> payload, String path) {
        Object current = payload;
        for (String key : path.split("\\.")) {
            if (current instanceof Map<?, ?> m) {
                current = m.get(key);
            } else if (current instanceof List<?> l
                    && !key.isEmpty()
                    && key.chars().allMatch(Character::isDigit)) {
                int i = Integer.parseInt(key);
                current = i < l.size() ? l.get(i) : null;
            } else {
                return null;
            }
        }
        return current;
    }

    static boolean same(Object a, Object b) {
        if (a instanceof Number x && b instanceof Number y) {
            return new BigDecimal(x.toString()).compareTo(new BigDecimal(y.toString())) == 0;
        }
        if (a instanceof Map<?, ?> x && b instanceof Map<?, ?> y) {
            return x.size() == y.size()
                    && x.entrySet().stream()
                            .allMatch(e -> y.containsKey(e.getKey()) && same(e.getValue(), y.get(e.getKey())));
        }
        if (a instanceof List<?> x && b instanceof List<?> y) {
            if (x.size() != y.size()) {
                return false;
            }
            for (int i = 0; i < x.size(); i++) {
                if (!same(x.get(i), y.get(i))) {
                    return false;
                }
            }
            return true;
        }
        return a == null ? b == null : a.equals(b);
    }
}
