package dev.moe4j.cli;

import dev.moe4j.train.Checkpoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Ctrl-C (SIGINT) during train stops it at the end of a step and says which step the checkpoint holds and how to
 * resume; that is true, and resuming works. (SIGTERM, the same shutdown hook, where this JVM was started with
 * SIGINT ignored and so its children are.)
 */
class TrainInterruptTest {
    @Test
    void ctrlCSaysWhereTheRunCanBeResumed(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("run");
        try (ChildCli c = new ChildCli(TrainRunSafetyTest.train(out, "--steps", "1000000", "--checkpoint-every", "7", "--threads", "1"))) {
            c.interruptWhen(() -> checkpointStep(out) >= 7, "train");
            check(c, out);
        }
    }

    private static void check(ChildCli c, Path out) throws Exception {
        String text = c.output();
        assertEquals(c.interruptedStatus(), c.process.exitValue(), text);
        assertFalse(text.contains("\tat ") || text.contains("Exception"), "no stack trace: " + text);
        Matcher m = Pattern.compile("moe4j: interrupted at step (\\d+) of 1000000; " + Pattern.quote(out.resolve(Checkpoint.FILE).toString())
                + " holds step (\\d+): continue with 'moe4j train --out " + Pattern.quote(out.toString()) + " --resume'").matcher(text);
        assertTrue(m.find(), text);
        int at = Integer.parseInt(m.group(1)), saved = Integer.parseInt(m.group(2));
        assertEquals(saved, Checkpoint.read(out).step(), "the line tells the checkpoint's step: " + text);
        assertTrue(saved >= 7 && saved <= at && at - saved < 7, "at " + at + ", saved " + saved);
        assertFalse(Files.exists(out.resolve(Checkpoint.FILE + ".tmp")), "no unfinished checkpoint");

        TrainRunSafetyTest.Run resumed = TrainRunSafetyTest.run("train", "--resume", "--steps", "" + (saved + 2), "--out", out.toString());
        assertEquals(0, resumed.code(), resumed.err());
        assertEquals(saved + 2, Checkpoint.read(out).step());
    }

    private static int checkpointStep(Path out) {
        try {
            return Files.exists(out.resolve(Checkpoint.FILE)) ? Checkpoint.read(out).step() : -1;
        } catch (RuntimeException e) {
            return -1;   // caught between write and rename
        }
    }
}
