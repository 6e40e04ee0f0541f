package dev.mobius.openapi.compat;

import static org.junit.jupiter.api.Assertions.assertNotNull;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mobius.openapi.ContractBundler;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.function.Consumer;

/** The contracts the tests compare: the module's released ones and the bundle the build made. */
final class Contracts {
    /** Tests run in the openapi module's directory. */
    static final Path MODULE = Path.of("").toAbsolutePath();

    private static final String BUNDLED = "openapi/openapi-public.yaml";

    private Contracts() {}

    /** The current contract as the build bundled it: what the server serves. */
    static String bundled() {
        try (InputStream in = Contracts.class.getClassLoader().getResourceAsStream(BUNDLED)) {
            assertNotNull(in, BUNDLED + " is not on the classpath");
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A copy of {@code contract} with one edit made to its tree. */
    static String edited(String contract, Consumer<ObjectNode> edit) {
        ObjectNode tree = (ObjectNode) ReleasedContracts.tree(contract);
        edit.accept(tree);
        try {
            return ContractBundler.write(tree);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The object at a JSON pointer of the tree ({@code /components/schemas/Project}). */
    static ObjectNode at(ObjectNode tree, String pointer) {
        if (tree.at(pointer) instanceof ObjectNode node) {
            return node;
        }
        throw new AssertionError("the released contract has no object at " + pointer);
    }

    static String pointer(String... tokens) {
        StringBuilder out = new StringBuilder();
        for (String token : tokens) {
            out.append('/').append(token.replace("~", "~0").replace("/", "~1"));
        }
        return out.toString();
    }
}
