package dev.moe4j.cli;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The stderr filter that {@code ./moe4j} runs the JVM through ({@code scripts/drop-incubator-notice.sh}), as a
 * user sees it: in a pseudo-terminal (util-linux {@code script}). Stand-in commands wait for the test's go-ahead
 * instead of sleeping, so nothing here depends on timing: a progress update that is not passed on live is never
 * seen before the go-ahead, and the stand-in then finishes on its own after 20 s and the test fails.
 */
class LauncherTest {
    static final String NOTICE = "WARNING: Using incubator modules: jdk.incubator.vector";
    static Path filter;
    @TempDir Path tmp;

    @BeforeAll
    static void findFilter() {
        Path p = Path.of("").toAbsolutePath();
        while (p != null && !Files.isExecutable(p.resolve("scripts/drop-incubator-notice.sh"))) p = p.getParent();
        assertTrue(p != null, "scripts/drop-incubator-notice.sh above " + Path.of("").toAbsolutePath());
        filter = p.resolve("scripts/drop-incubator-notice.sh");
    }

    static void needPseudoTerminal() throws Exception {
        boolean works;
        try {
            Process p = new ProcessBuilder("script", "-q", "-e", "-c", "true", "/dev/null").redirectErrorStream(true).start();
            works = p.waitFor(20, TimeUnit.SECONDS) && p.exitValue() == 0;
            p.destroyForcibly();
        } catch (IOException e) {
            works = false;
        }
        Assumptions.assumeTrue(works, "skipped: util-linux 'script' cannot run a command in a pseudo-terminal here");
    }

    /**
     * Whether this JVM was started with SIGINT ignored (as a background job of a script is): then every process
     * it starts ignores it too, and no Ctrl-C can reach them.
     */
    static boolean sigintIgnored() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("SigIgn:")) return (Long.parseUnsignedLong(line.substring(7).strip(), 16) & 2) != 0;
            }
        } catch (IOException | NumberFormatException e) {
            // not Linux: assume the usual
        }
        return false;
    }

    static void needCtrlC() {
        Assumptions.assumeFalse(sigintIgnored(), "skipped: this JVM ignores SIGINT (started in the background?), so Ctrl-C cannot reach what it starts");
    }

    static String quote(String s) {
        return "'" + s.replace("'", "'\\''") + "'";
    }

    /** The filter running {@code bash -c body}, as a shell command line. */
    static String throughFilter(String body) {
        return quote(filter.toString()) + " bash -c " + quote(body);
    }

    /** A stand-in that prints a progress update, waits for {@code go} (at most 20 s), then finishes with exit 3. */
    static String standIn(Path go) {
        return "echo '" + NOTICE + "' >&2; printf '\\rworking 1/2' >&2; "
                + "for i in $(seq 400); do [ -e " + quote(go.toString()) + " ] && break; sleep 0.05; done; "
                + "printf '\\rworking 2/2\\n' >&2; echo 'last line' >&2; exit 3";
    }

    @Test
    void aProgressUpdateArrivesBeforeTheCommandEnds() throws Exception {
        needPseudoTerminal();
        Path go = tmp.resolve("go");
        try (Output t = Output.of(new ProcessBuilder("script", "-q", "-e", "-c", throughFilter(standIn(go)), "/dev/null"))) {
            assertTrue(t.await("working 1/2", 20), "the progress update arrived while the command waits: " + t.text());
            assertFalse(t.text().contains("working 2/2"), "the command was still running: " + t.text());
            Files.createFile(go);
            assertEquals(3, t.exitCode(30), "the command's exit status: " + t.text());
            assertTrue(t.text().contains("\rworking 2/2") && t.text().contains("last line"), t.text());
            assertFalse(t.text().contains("Using incubator modules"), "the notice is dropped: " + t.text());
        }
    }

    @Test
    void ctrlCReachesTheCommandAndWhatItPrintsWhileStoppingGetsThrough() throws Exception {
        needPseudoTerminal();
        needCtrlC();
        String body = "trap 'echo stopping after INT >&2; exit 130' INT; echo ready >&2; for i in $(seq 400); do sleep 0.05; done";
        try (Output t = Output.of(new ProcessBuilder("script", "-q", "-e", "-c", throughFilter(body), "/dev/null"))) {
            assertTrue(t.await("ready", 20), t.text());
            t.type("\u0003"); // the terminal turns ^C into SIGINT for its foreground process group
            assertEquals(130, t.exitCode(20), t.text());
            assertTrue(t.text().contains("stopping after INT"), t.text());
        }
    }

    @Test
    void sigtermToTheLauncherReachesTheCommand() throws Exception {
        String body = "trap 'echo stopping after TERM >&2; exit 143' TERM; echo ready >&2; for i in $(seq 400); do sleep 0.05; done";
        try (Output t = Output.of(new ProcessBuilder(filter.toString(), "bash", "-c", body))) {
            assertTrue(t.await("ready", 20), t.text());
            // SIGTERM to the launcher alone, as a service manager sends it (Process.destroy() would also close our pipe)
            assertEquals(0, new ProcessBuilder("kill", "-TERM", "" + t.process.pid()).start().waitFor());
            assertEquals(143, t.exitCode(20), t.text());
            assertTrue(t.text().contains("stopping after TERM"), t.text());
        }
    }

    @Test
    void everyLineIsOutWhenTheLauncherExits() throws Exception {
        Path err = tmp.resolve("stderr");
        String body = "echo '" + NOTICE + "' >&2; for i in $(seq 5000); do echo line $i >&2; done; printf 'no newline at the end' >&2; exit 4";
        Process p = new ProcessBuilder(filter.toString(), "bash", "-c", body).redirectError(err.toFile()).start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        String text = Files.readString(err); // read at once: nothing may still be on its way
        assertEquals(4, p.exitValue());
        assertTrue(text.startsWith("line 1\n") && text.endsWith("line 5000\nno newline at the end"), text.length() + " chars");
    }

    @Test
    void theCliShowsItsProgressBarLiveAndCtrlCStopsItCleanly() throws Exception {
        needPseudoTerminal();
        needCtrlC();
        // olmoe-1b-7b q4_0 is 3.6 GiB, many seconds of writing: the bar must show while it runs; ^C then stops it.
        Assumptions.assumeTrue(Files.getFileStore(tmp).getUsableSpace() > (8L << 30),
                "skipped: under 8 GiB free in " + tmp + ", and synth checks for 3.6 GiB before writing");
        Path out = tmp.resolve("big.gguf");
        List<String> java = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "-cp", System.getProperty("java.class.path"), Main.class.getName(),
                "synth", "--shape", "olmoe-1b-7b", "--type", "q4_0", "--out", out.toString());
        StringBuilder line = new StringBuilder(quote(filter.toString()));
        for (String a : java) line.append(' ').append(quote(a));
        try (Output t = Output.of(new ProcessBuilder("script", "-q", "-e", "-c", line.toString(), "/dev/null"))) {
            assertTrue(t.await("\rsynth olmoe-1b-7b q4_0 [", 120), "the progress bar shows while synth runs: " + t.text());
            assertTrue(t.process.isAlive() && !t.text().contains("wrote"), t.text());
            t.type("\u0003");
            assertEquals(130, t.exitCode(60), t.text());
            assertTrue(t.text().contains("moe4j: interrupted: " + out + " was not written"), t.text());
            assertFalse(t.text().contains("Using incubator modules"), "the notice is dropped: " + t.text());
        }
        assertFalse(Files.exists(out) || Files.exists(tmp.resolve("big.gguf.tmp")), "nothing left behind");
    }

    /** A process whose output (stdout and stderr together) collects as it arrives. */
    static final class Output implements AutoCloseable {
        final Process process;
        private final ByteArrayOutputStream seen = new ByteArrayOutputStream();
        private final Thread reader;

        private Output(Process process) {
            this.process = process;
            reader = Thread.ofVirtual().start(() -> {
                byte[] buf = new byte[4096];
                try (InputStream in = process.getInputStream()) {
                    for (int n; (n = in.read(buf)) > 0; ) synchronized (seen) { seen.write(buf, 0, n); }
                } catch (IOException ignored) {
                    // the process is gone
                }
            });
        }

        static Output of(ProcessBuilder b) throws IOException {
            return new Output(b.redirectErrorStream(true).start());
        }

        String text() {
            synchronized (seen) {
                return seen.toString(StandardCharsets.UTF_8);
            }
        }

        /** Whether {@code s} arrives within {@code seconds}. */
        boolean await(String s, int seconds) throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
            while (!text().contains(s) && System.nanoTime() < deadline) Thread.sleep(10);
            return text().contains(s);
        }

        void type(String s) throws IOException {
            OutputStream in = process.getOutputStream();
            in.write(s.getBytes(StandardCharsets.UTF_8));
            in.flush();
        }

        /** The exit code, once the process and everything it printed are done; fails after {@code seconds}. */
        int exitCode(int seconds) throws InterruptedException {
            assertTrue(process.waitFor(seconds, TimeUnit.SECONDS), "still running after " + seconds + " s: " + text());
            reader.join(TimeUnit.SECONDS.toMillis(seconds));
            return process.exitValue();
        }

        @Override
        public void close() {
            process.destroyForcibly();
        }
    }
}
