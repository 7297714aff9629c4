package dev.moe4j.cli;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

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
        try (ChildCli c = new ChildCli("synth", "--shape", "olmoe-1b-7b", "--type", "q4_0", "--out", out.toString())) {
            c.interruptWhen(() -> sizeOf(tmp) > 0, "synth");
            String text = c.output();
            assertEquals(c.interruptedStatus(), c.process.exitValue(), text);
            assertFalse(Files.exists(tmp), "the unfinished .tmp is gone");
            assertFalse(Files.exists(out), "no output file");
            assertTrue(text.contains("moe4j: interrupted: " + out + " was not written, and no partial big.gguf.tmp is left"), text);
            assertFalse(text.contains("\tat "), "no stack trace: " + text);
        }
    }

    private static long sizeOf(Path f) {
        try {
            return Files.exists(f) ? Files.size(f) : 0;
        } catch (java.io.IOException e) {
            return 0;   // renamed or removed between the two calls
        }
    }
}
