package dev.mobius.contract.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mobius.server.TestServer;
import java.io.File;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;

/**
 * The program of the README's "Use the Java client" section, as an integrator gets it: the text of
 * the README is the program's source; it compiles against the client's {@code all} jar and
 * nothing else, and, run in a JVM of its own on that jar alone, it works against the real server.
 */
class IntegratorProgramTest {
    static final Path ROOT = Path.of("").toAbsolutePath().getParent();
    static final Path PROGRAM = ROOT.resolve("client-gen/src/main/java/dev/mobius/client/examples/QuickStart.java");

    static String section() throws Exception {
        String readme = Files.readString(ROOT.resolve("README.md"));
        int start = readme.indexOf("\n## Use the Java client\n");
        assertTrue(start >= 0, "the README has the section");
        int end = readme.indexOf("\n## ", start + 1);
        return readme.substring(start, end < 0 ? readme.length() : end);
    }

    static String block(String section, String language) {
        Matcher m =
                Pattern.compile("```" + language + "\n(.*?)```", Pattern.DOTALL).matcher(section);
        assertTrue(m.find(), "a " + language + " block");
        return m.group(1);
    }

    /** The all jar on this test's class path (the artifact with classifier {@code all}). */
    static Path allJar() {
        return Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
                .map(Path::of)
                .filter(p -> p.getFileName().toString().matches("mobius-client-.+-all\\.jar"))
                .findFirst()
                .orElseThrow(() -> new AssertionError(
                        "mobius-client's all jar is not on the class path: " + System.getProperty("java.class.path")));
    }

    @Test
    void theReadmeShowsTheProgramAsItIs() throws Exception {
        assertEquals(Files.readString(PROGRAM), block(section(), "java"));
    }

    @Test
    void theProgramCompilesAndRunsOnTheAllJarAlone() throws Exception {
        Path work = Files.createTempDirectory("quickstart-");
        try (TestServer server = TestServer.start()) {
            // The README's own automation, and some runs before it: the program's list spans pages of 20.
            Admin admin = new Admin(server.baseUrl());
            Matcher spec =
                    Pattern.compile("-d '(\\{\"spec\".*?)'", Pattern.DOTALL).matcher(block(section(), "sh"));
            assertTrue(spec.find(), "the README creates the automation");
            admin.publish(
                    "hello",
                    new ObjectMapper().readTree(spec.group(1)).at("/spec/steps").toString());
            admin.publish(
                    "hold", "[{\"key\":\"w\",\"kind\":\"wait_for_event\",\"config\":{\"event_type\":\"signal\"}}]");
            for (int i = 0; i < 21; i++) {
                admin.start("hold");
            }

            Path source = work.resolve("src/dev/mobius/client/examples/QuickStart.java");
            Files.createDirectories(source.getParent());
            Files.writeString(source, block(section(), "java"));
            Path classes = Files.createDirectories(work.resolve("classes"));
            String jar = allJar().toString();
            JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
            StringWriter diagnostics = new StringWriter();
            boolean compiled = javac.getTask(
                            diagnostics,
                            null,
                            null,
                            List.of(
                                    "--release",
                                    "17",
                                    "-Xlint:all",
                                    "-Werror",
                                    "-classpath",
                                    jar,
                                    "-d",
                                    classes.toString()),
                            null,
                            javac.getStandardFileManager(null, null, StandardCharsets.UTF_8)
                                    .getJavaFileObjects(source.toFile()))
                    .call();
            assertTrue(compiled, diagnostics.toString());

            Process p = new ProcessBuilder(
                            Path.of(System.getProperty("java.home"), "bin", "java")
                                    .toString(),
                            "-cp",
                            classes + File.pathSeparator + jar,
                            "dev.mobius.client.examples.QuickStart",
                            server.baseUrl(),
                            TestServer.BOOTSTRAP_KEY,
                            Admin.PROJECT,
                            "hello")
                    .redirectErrorStream(true)
                    .start();
            p.getOutputStream().close();
            String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(120, TimeUnit.SECONDS), output);
            assertEquals(0, p.exitValue(), output);

            List<String> lines = output.lines().toList();
            // The run's events, each once and in order, from its first to the one that ended it.
            List<String> events = new ArrayList<>();
            for (String line : lines) {
                if (line.matches("\\d+ [a-z_.]+")) {
                    events.add(line);
                }
            }
            assertEquals("1 run.queued", events.get(0), output);
            for (int i = 0; i < events.size(); i++) {
                assertTrue(events.get(i).startsWith((i + 1) + " "), output);
            }
            assertTrue(events.get(events.size() - 1).endsWith(" run.completed"), output);
            String finished = lines.stream()
                    .filter(l -> l.startsWith("run run_"))
                    .findFirst()
                    .orElse(null);
            assertNotNull(finished, output);
            assertTrue(finished.endsWith(" completed"), output);
            String runId = finished.split(" ")[1];
            assertEquals("completed", admin.get("/runs/" + runId).get("status").asText());
            assertEquals(
                    events.size(),
                    admin.get("/runs/" + runId + "/events?limit=200")
                            .get("items")
                            .size());

            assertTrue(lines.contains("22 runs in default"), output);
            assertEquals(22, admin.get("/runs?limit=200").get("items").size());
            assertTrue(lines.contains("webhook whdel_1 verified"), output);
        } finally {
            TestServer.deleteTree(work);
        }
    }
}
