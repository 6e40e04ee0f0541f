package dev.mobius.server.toolkits;

import dev.mobius.api.model.ToolkitActionGrant;
import dev.mobius.server.actions.Catalog;
import dev.mobius.server.http.Validator;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;
import org.jdbi.v3.core.Handle;

/**
 * The grammar of toolkit grants, checked against the project's action catalogue. Selectors by type:
 * {@code exact} an action name the catalogue lists; {@code group} a dotted namespace and {@code .*};
 * {@code platform} {@code platform.*}, {@code platform.<namespace>.*} or {@code platform.<action>};
 * {@code custom} {@code custom.*} or {@code custom.<HTTP action>}; {@code wildcard} {@code *} or a
 * name prefix and {@code *}. Groups and wildcards may cover actions that come later (integrations,
 * worker actions); the named forms must exist now.
 */
public final class Grants {
    public static final int MAX_GRANTS = 200;
    static final int MAX_SELECTOR = 256;
    /** The characters of catalogue action names (the worker form, which includes the other two). */
    private static final Pattern ACTION_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");

    private static final Pattern NAMESPACE = Pattern.compile("[a-z0-9][a-z0-9_-]*(\\.[a-z0-9][a-z0-9_-]*)*");
    private static final String ACTION_PERMISSION = "actions.execute.";

    private final Catalog catalog;

    public Grants(Catalog catalog) {
        this.catalog = catalog;
    }

    /** Whether {@code tool} is an action name or a name prefix ending in {@code *} (a skill's allowed tool). */
    public static boolean isToolName(String tool) {
        if (tool == null) {
            return false;
        }
        if (tool.endsWith("*")) {
            return isPrefixWildcard(tool);
        }
        return ACTION_NAME.matcher(tool).matches();
    }

    private static boolean isPrefixWildcard(String s) {
        if (s.equals("*")) {
            return true;
        }
        String prefix = s.substring(0, s.length() - 1);
        return prefix.length() <= 127 && ACTION_NAME.matcher(prefix).matches();
    }

    /**
     * Reports every grant that does not fit its type or the catalogue at {@code action_grants[i].selector}
     * and returns the grants with repeats dropped (first kept).
     */
    List<ToolkitActionGrant> check(Handle h, String projectId, List<ToolkitActionGrant> grants, Validator v) {
        if (grants == null) {
            return List.of();
        }
        if (grants.size() > MAX_GRANTS) {
            v.add("action_grants", "must hold at most " + MAX_GRANTS + " grants");
            return List.of();
        }
        Lookup lookup = new Lookup(h, projectId);
        Set<String> seen = new LinkedHashSet<>();
        List<ToolkitActionGrant> distinct = new ArrayList<>();
        for (int i = 0; i < grants.size(); i++) {
            ToolkitActionGrant grant = grants.get(i);
            if (grant == null || grant.getSelectorType() == null || grant.getSelector() == null) {
                continue; // the schema's required fields were reported already
            }
            String problem = problem(grant.getSelectorType(), grant.getSelector(), lookup);
            if (problem != null) {
                v.add("action_grants[" + i + "].selector", problem);
            } else if (seen.add(grant.getSelectorType().value() + " " + grant.getSelector())) {
                distinct.add(new ToolkitActionGrant()
                        .selectorType(grant.getSelectorType())
                        .selector(grant.getSelector()));
            }
        }
        return distinct;
    }

    private String problem(ToolkitActionGrant.SelectorTypeEnum type, String s, Lookup lookup) {
        if (s.length() > MAX_SELECTOR) {
            return "must be at most " + MAX_SELECTOR + " characters";
        }
        if (s.toLowerCase(Locale.ROOT).startsWith("mobius.")) {
            return "names starting with mobius. are permissions, not actions";
        }
        if (s.startsWith(ACTION_PERMISSION)) {
            return "is an action permission; write the selector without actions.execute.";
        }
        return switch (type) {
            case EXACT -> exact(s, lookup);
            case GROUP -> group(s);
            case PLATFORM -> platform(s, lookup);
            case CUSTOM -> custom(s, lookup);
            case WILDCARD -> isPrefixWildcard(s) ? null : "must be * or an action name prefix followed by *";
        };
    }

    private String exact(String s, Lookup lookup) {
        if (!ACTION_NAME.matcher(s).matches()) {
            return "must be an action name";
        }
        return lookup.exists(s) ? null : "is not an action of this project's catalogue";
    }

    private static String group(String s) {
        String namespace = s.endsWith(".*") ? s.substring(0, s.length() - 2) : "";
        if (!NAMESPACE.matcher(namespace).matches()) {
            return "must be a namespace followed by .*";
        }
        String first = namespace.contains(".") ? namespace.substring(0, namespace.indexOf('.')) : namespace;
        if (first.equals("platform") || first.equals("custom")) {
            return "use selector_type " + first;
        }
        return null;
    }

    private String platform(String s, Lookup lookup) {
        String shape = "must be platform.*, platform.<namespace>.* or platform.<action>";
        if (s.equals("platform.*")) {
            return null;
        }
        if (!s.startsWith("platform.")) {
            return shape;
        }
        String rest = s.substring("platform.".length());
        if (rest.endsWith(".*")) {
            String namespace = rest.substring(0, rest.length() - 2);
            if (!NAMESPACE.matcher(namespace).matches()) {
                return shape;
            }
            return lookup.platform().stream().anyMatch(n -> n.startsWith(namespace + "."))
                    ? null
                    : "matches no platform action";
        }
        if (!ACTION_NAME.matcher(rest).matches()) {
            return shape;
        }
        return lookup.platform().contains(rest) ? null : "matches no platform action";
    }

    private String custom(String s, Lookup lookup) {
        if (s.equals("custom.*")) {
            return null;
        }
        String rest = s.startsWith("custom.") ? s.substring("custom.".length()) : "";
        if (!ACTION_NAME.matcher(rest).matches()) {
            return "must be custom.* or custom.<action>";
        }
        return lookup.http(rest) ? null : "is not an HTTP action of this project";
    }

    /** The catalogue as one request sees it; the platform names are read once, when first needed. */
    private final class Lookup {
        private final Handle h;
        private final String projectId;
        private List<String> platform;

        Lookup(Handle h, String projectId) {
            this.h = h;
            this.projectId = projectId;
        }

        boolean exists(String name) {
            return catalog.find(h, projectId, name).isPresent();
        }

        boolean http(String name) {
            return catalog.find(h, projectId, name).filter(e -> e.row() != null).isPresent();
        }

        List<String> platform() {
            if (platform == null) {
                platform = catalog.all(h, projectId).stream()
                        .filter(Catalog.Entry::platform)
                        .map(Catalog.Entry::name)
                        .toList();
            }
            return platform;
        }
    }
}
