package dev.moe4j.cli;

import dev.moe4j.kernel.Parallel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static dev.moe4j.cli.CliTest.assertOneLineError;
import static dev.moe4j.cli.CliTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/** Every command with --threads refuses 0, negatives and counts above the cap in one line, exit 2, before doing any work. */
class ThreadsOptionTest {
    @TempDir Path tmp;

    @Test
    void everyCommandRefusesOutOfRangeThreadCounts() {
        String model = tmp.resolve("never-read.gguf").toString(), out = tmp.resolve("never-written").toString();
        String[][] commands = {
                {"info", "--model", model}, {"tokenize", "--model", model, "--text", "x"},
                {"logits", "--model", model, "--ids", "1", "--out", out}, {"generate", "--model", model, "--prompt", "x"},
                {"chat", "--model", model}, {"bench", "--model", model}, {"serve", "--model", model},
                {"synth", "--shape", "tiny", "--out", out}, {"quantize", "--model", model, "--out", out, "--type", "q8_0"},
                {"train", "--out", out}, {"demo", "--out", out},
        };
        int max = Parallel.maxThreads(), before = Parallel.threads();
        for (String[] command : commands) {
            for (String bad : new String[] {"0", "-2", "" + (max + 1), "100000"}) {
                List<String> args = new ArrayList<>(List.of(command));
                args.addAll(List.of("--threads", bad));
                CliTest.Run r = run(args.toArray(String[]::new));
                assertOneLineError(r, "--threads: " + bad + " ", bad.startsWith("-") || bad.equals("0") ? "at least 1" : "more than " + max);
            }
        }
        assertEquals(before, Parallel.threads(), "the kernel pool was left alone");
        assertFalse(Files.exists(tmp.resolve("never-written")), "no command ran");
    }

    @Test
    void theCapItselfIsAccepted() {
        int before = Parallel.threads();
        try {
            CliTest.Run r = run("synth", "--shape", "tiny", "--out", tmp.resolve("t.gguf").toString(), "--threads", "" + Parallel.maxThreads());
            assertEquals(0, r.code(), r.err());
            assertEquals(Parallel.maxThreads(), Parallel.threads());
        } finally {
            Parallel.setThreads(before);
        }
    }
}
