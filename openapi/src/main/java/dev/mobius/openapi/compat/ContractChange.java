package dev.mobius.openapi.compat;

import java.util.Arrays;
import java.util.Comparator;
import java.util.Locale;

/**
 * One difference between two versions of the contract, at one place of one operation.
 *
 * @param kind what sort of change it is; {@link Kind#slug()} is how the allowed-list names it
 * @param breaking whether a client written against the older contract may stop working
 * @param method the HTTP method of the operation, upper case
 * @param path the path of the operation as the contract writes it
 * @param operationId the operation's id in the older contract (the newer one's for an added operation)
 * @param location where in the operation, e.g. {@code response 200 application/json .items[].status};
 *     empty for the operation as a whole
 * @param detail what changed, in a few words
 */
public record ContractChange(
        Kind kind, boolean breaking, String method, String path, String operationId, String location, String detail) {

    /** Sections of the changelog a change is listed under. */
    public enum Section {
        ADDED("Added"),
        DEPRECATED("Deprecated"),
        CHANGED("Changed"),
        REMOVED("Removed");

        private final String title;

        Section(String title) {
            this.title = title;
        }

        public String title() {
            return title;
        }
    }

    public enum Kind {
        REMOVED_OPERATION(Section.REMOVED),
        ADDED_OPERATION(Section.ADDED),
        DEPRECATED_OPERATION(Section.DEPRECATED),
        CHANGED_OPERATION_ID(Section.CHANGED),
        REMOVED_PARAMETER(Section.REMOVED),
        ADDED_PARAMETER(Section.ADDED),
        NEW_REQUIRED_PARAMETER(Section.CHANGED),
        OPTIONAL_PARAMETER(Section.CHANGED),
        DEPRECATED_PARAMETER(Section.DEPRECATED),
        CHANGED_PARAMETER_STYLE(Section.CHANGED),
        NEW_REQUIRED_REQUEST_BODY(Section.CHANGED),
        OPTIONAL_REQUEST_BODY(Section.CHANGED),
        REMOVED_MEDIA_TYPE(Section.REMOVED),
        ADDED_MEDIA_TYPE(Section.ADDED),
        REMOVED_STATUS_CODE(Section.REMOVED),
        ADDED_STATUS_CODE(Section.ADDED),
        REMOVED_RESPONSE_HEADER(Section.REMOVED),
        ADDED_RESPONSE_HEADER(Section.ADDED),
        CHANGED_RESPONSE_HEADER(Section.CHANGED),
        REMOVED_FIELD(Section.REMOVED),
        ADDED_FIELD(Section.ADDED),
        NEW_REQUIRED_FIELD(Section.CHANGED),
        OPTIONAL_FIELD(Section.CHANGED),
        DEPRECATED_FIELD(Section.DEPRECATED),
        CHANGED_TYPE(Section.CHANGED),
        REMOVED_ENUM_VALUE(Section.REMOVED),
        ADDED_ENUM_VALUE(Section.ADDED),
        CHANGED_CONSTRAINT(Section.CHANGED),
        CHANGED_DEFAULT(Section.CHANGED),
        CHANGED_ALTERNATIVES(Section.CHANGED),
        CHANGED_SECURITY(Section.CHANGED),
        /** Reported incompatible by the diff in a part this list has no finer kind for. */
        OTHER(Section.CHANGED);

        private final Section section;

        Kind(Section section) {
            this.section = section;
        }

        public Section section() {
            return section;
        }

        /** The kind as written in {@code breaking-changes-allowed.yaml}, e.g. {@code removed-field}. */
        public String slug() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }

        public static Kind ofSlug(String slug) {
            return Arrays.stream(values())
                    .filter(k -> k.slug().equals(slug))
                    .findFirst()
                    .orElseThrow(() -> new IllegalArgumentException("unknown kind '" + slug + "'; one of "
                            + Arrays.stream(values()).map(Kind::slug).toList()));
        }
    }

    /** Order of a report: by path, method, location, then kind. */
    public static final Comparator<ContractChange> ORDER = Comparator.comparing(ContractChange::path)
            .thenComparing(ContractChange::method)
            .thenComparing(ContractChange::location)
            .thenComparing(ContractChange::kind)
            .thenComparing(ContractChange::detail);

    /** {@code METHOD path}. */
    public String endpoint() {
        return method + " " + path;
    }

    /** One line of the gate's report: operation, location, what changed, and the kind to allow it by. */
    public String line() {
        return operationId + " (" + endpoint() + ")" + (location.isEmpty() ? "" : " " + location) + ": " + detail + " ["
                + kind.slug() + "]";
    }
}
