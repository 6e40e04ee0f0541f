package dev.mobius.server.docs;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;

/**
 * The Swagger UI files the API reference page uses, read once from the {@code org.webjars:swagger-ui}
 * jar on the class path. Only the names listed here are ever served: a request names a file, it
 * never names a path, so nothing else in the jar or on the class path can be reached through it.
 * The webjar's own {@code index.html} and {@code swagger-initializer.js} are left out on purpose:
 * they render a sample API from the internet.
 */
final class SwaggerUi {
    private static final String PROPERTIES = "META-INF/maven/org.webjars/swagger-ui/pom.properties";
    private static final String ROOT = "META-INF/resources/webjars/swagger-ui/";
    private static final String JAVASCRIPT = "text/javascript;charset=utf-8";
    private static final String CSS = "text/css;charset=utf-8";
    private static final String TEXT = "text/plain;charset=utf-8";
    private static final String PNG = "image/png";
    private static final Map<String, String> SERVED = orderedMap(
            "swagger-ui-bundle.js", JAVASCRIPT,
            "swagger-ui-bundle.js.LICENSE.txt", TEXT,
            "swagger-ui.css", CSS,
            "favicon-32x32.png", PNG,
            "favicon-16x16.png", PNG);

    /** One served file: its bytes and its {@code Content-Type}. */
    record File(byte[] bytes, String contentType) {}

    private final String version;
    private final Map<String, File> files;

    private SwaggerUi(String version, Map<String, File> files) {
        this.version = version;
        this.files = files;
    }

    /** Reads the files; a server packaged without the webjar fails here, at start, not on a request. */
    static SwaggerUi load() {
        ClassLoader loader = SwaggerUi.class.getClassLoader();
        Properties properties = new Properties();
        try (InputStream in = loader.getResourceAsStream(PROPERTIES)) {
            if (in == null) {
                throw new IllegalStateException(PROPERTIES + " is not on the class path (org.webjars:swagger-ui)");
            }
            properties.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + PROPERTIES, e);
        }
        String version = properties.getProperty("version");
        if (version == null || version.isBlank()) {
            throw new IllegalStateException(PROPERTIES + " names no version");
        }
        Map<String, File> files = new LinkedHashMap<>();
        SERVED.forEach((name, type) -> {
            String resource = ROOT + version + "/" + name;
            try (InputStream in = loader.getResourceAsStream(resource)) {
                if (in == null) {
                    throw new IllegalStateException(resource + " is not on the class path");
                }
                files.put(name, new File(in.readAllBytes(), type));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + resource, e);
            }
        });
        return new SwaggerUi(version, Map.copyOf(files));
    }

    /** The Swagger UI version of the webjar, e.g. {@code 5.35.0}. */
    String version() {
        return version;
    }

    /** @return the file of that name, or null for any name that is not one of the served files */
    File file(String name) {
        return files.get(name);
    }

    private static Map<String, String> orderedMap(String... pairs) {
        Map<String, String> map = new LinkedHashMap<>();
        for (int i = 0; i < pairs.length; i += 2) {
            map.put(pairs[i], pairs[i + 1]);
        }
        return map;
    }
}
