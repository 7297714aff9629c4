package dev.moe4j.cli;

import dev.moe4j.train.Checkpoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
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
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "-cp", System.getProperty("java.class.path"), Main.class.getName()));
        cmd.addAll(List.of(TrainRunSafetyTest.train(out, "--steps", "1000000", "--checkpoint-every", "7", "--threads", "1")));
        boolean sigint = !LauncherTest.sigintIgnored();
        String signal = sigint ? "INT" : "TERM";
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        ByteArrayOutputStream output = new ByteArrayOutputStream();
        Thread drain = Thread.ofVirtual().start(() -> {
            try { p.getInputStream().transferTo(output); } catch (java.io.IOException ignored) { }
        });
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (p.isAlive() && System.nanoTime() < deadline && !(Files.exists(out.resolve(Checkpoint.FILE)) && Checkpoint.read(out).step() >= 7)) {
                Thread.sleep(20);
            }
            assertTrue(p.isAlive(), "train was running when interrupted; output: " + output);
            new ProcessBuilder("kill", "-" + signal, "" + p.pid()).start().waitFor(10, TimeUnit.SECONDS);
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "train stopped after SIG" + signal);
        } finally {
            p.destroyForcibly();
        }
        drain.join(10_000);
        String text = output.toString();
        assertEquals(sigint ? 130 : 143, p.exitValue(), text);
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
}
