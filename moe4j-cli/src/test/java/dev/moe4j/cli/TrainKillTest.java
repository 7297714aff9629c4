package dev.moe4j.cli;

import dev.moe4j.train.Checkpoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Kills a training process (SIGKILL) mid-run, resumes it, and compares with a run that was never stopped. */
class TrainKillTest {
    static final int STEPS = 1000;

    static List<String> args(Path out) {
        return new ArrayList<>(List.of("train", "--dim", "16", "--heads", "2", "--ffn", "16", "--seq-len", "16", "--batch", "4",
                "--experts", "4", "--router", "noisy", "--steps", "" + STEPS, "--checkpoint-every", "10", "--eval-every", "250",
                "--no-export", "--threads", "2", "--out", out.toString()));
    }

    static int run(List<String> a) {
        StringWriter o = new StringWriter(), e = new StringWriter();
        int code = Main.run(a.toArray(new String[0]), new PrintWriter(o), new PrintWriter(e));
        assertEquals(0, code, e.toString());
        return code;
    }

    @Test
    void killedRunResumesBitForBit(@TempDir Path dir) throws Exception {
        Path killed = dir.resolve("killed"), full = dir.resolve("full");
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "-cp", System.getProperty("java.class.path"), Main.class.getName()));
        cmd.addAll(args(killed));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (p.isAlive() && System.nanoTime() < deadline) {
            if (Files.exists(killed.resolve("checkpoint.bin")) && Checkpoint.read(killed).step() >= 30) break;
            Thread.sleep(5);
        }
        p.destroyForcibly();
        p.waitFor();
        int at = Checkpoint.read(killed).step();
        assertTrue(at >= 30 && at < STEPS, "killed at step " + at);

        List<String> resume = new ArrayList<>(List.of("train", "--resume", "--no-export", "--out", killed.toString()));
        run(resume);
        run(args(full));
        Checkpoint a = Checkpoint.read(full), b = Checkpoint.read(killed);
        assertEquals(STEPS, b.step());
        assertEquals(a.history().size(), b.history().size());
        for (int i = 0; i < a.history().size(); i++) {
            assertEquals(Double.doubleToLongBits(a.history().get(i)[1]), Double.doubleToLongBits(b.history().get(i)[1]), "loss at step " + (i + 1));
        }
        assertArrayEquals(a.weights(), b.weights());
        System.out.println("killed at step " + at + " of " + STEPS + "; resumed run equals the uninterrupted one bit for bit");
    }
}
