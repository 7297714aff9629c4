package dev.moe4j.cli;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Ctrl-C (SIGINT) in the middle of synth's write leaves neither the file nor its unfinished .tmp, and says so.
 * (SIGTERM, the same shutdown hook, where this JVM was started with SIGINT ignored and so its children are.)
 */
class InterruptedWriteTest {
    @TempDir Path dir;

    @Test
    void sigintWhileWritingRemovesTheUnfinishedTmp() throws Exception {
        // olmoe-1b-7b q4_0 is 3.6 GiB: long enough to be caught mid-write on any machine; it is stopped after its first bytes.
        long free = Files.getFileStore(dir).getUsableSpace();
        Assumptions.assumeTrue(free > (8L << 30), "skipped: under 8 GiB free in " + dir + ", and synth checks for 3.6 GiB before writing");
        Path out = dir.resolve("big.gguf"), tmp = dir.resolve("big.gguf.tmp");
        List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "--add-modules", "jdk.incubator.vector",
                "-cp", System.getProperty("java.class.path"), Main.class.getName(),
                "synth", "--shape", "olmoe-1b-7b", "--type", "q4_0", "--out", out.toString());
        boolean sigint = !LauncherTest.sigintIgnored();
        String signal = sigint ? "INT" : "TERM";
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        ByteArrayOutputStream output = new ByteArrayOutputStream();
        Thread drain = Thread.ofVirtual().start(() -> {
            try { p.getInputStream().transferTo(output); } catch (java.io.IOException ignored) { }
        });
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (p.isAlive() && System.nanoTime() < deadline && !(Files.exists(tmp) && Files.size(tmp) > 0)) Thread.sleep(10);
            assertTrue(p.isAlive() && Files.exists(tmp), "synth was writing when interrupted; output: " + output);
            new ProcessBuilder("kill", "-" + signal, "" + p.pid()).start().waitFor(10, TimeUnit.SECONDS);
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "synth stopped after SIG" + signal);
        } finally {
            p.destroyForcibly();
        }
        drain.join(10_000);
        String text = output.toString();
        assertEquals(sigint ? 130 : 143, p.exitValue(), text);
        assertFalse(Files.exists(tmp), "the unfinished .tmp is gone");
        assertFalse(Files.exists(out), "no output file");
        assertTrue(text.contains("moe4j: interrupted: " + out + " was not written, and no partial big.gguf.tmp is left"), text);
        assertFalse(text.contains("\tat "), "no stack trace: " + text);
    }
}
