package dev.moe4j.cli;

import dev.moe4j.train.Checkpoint;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** `train` never loses a run: overwrite refused, resume extends, bad --out fails at step 0, damaged checkpoints refused. */
class TrainRunSafetyTest {
    record Run(int code, String out, String err) {}

    static Run run(String... args) {
        StringWriter o = new StringWriter(), e = new StringWriter();
        int code = Main.run(args, new PrintWriter(o), new PrintWriter(e));
        return new Run(code, o.toString(), e.toString());
    }

    static String[] train(Path out, String... more) {
        List<String> a = new ArrayList<>(List.of("train", "--dim", "8", "--heads", "2", "--ffn", "8", "--seq-len", "8", "--batch", "2",
                "--experts", "4", "--layers", "1", "--eval-every", "0", "--no-export", "--out", out.toString()));
        a.addAll(List.of(more));
        return a.toArray(new String[0]);
    }

    /** Exit code 2 and one error line, the last on stderr (a progress line may precede it), with no stack trace. */
    static void assertOneLineError(Run r, String... mustContain) {
        assertEquals(Main.EXIT_BAD_INPUT, r.code(), r.err());
        String[] lines = r.err().strip().split("\n");
        String line = lines[lines.length - 1];
        assertTrue(line.startsWith("moe4j: error: ") && !r.err().contains("Exception") && !r.err().contains("\tat "), r.err());
        for (int i = 0; i < lines.length - 1; i++) assertTrue(lines[i].startsWith("\r") || lines[i].contains(" tok/s "), "only progress before: " + r.err());
        for (String s : mustContain) assertTrue(line.contains(s), "'" + s + "' in " + line);
    }

    @Test
    void anExistingRunIsReplacedOnlyWithForce(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("run");
        assertEquals(0, run(train(out, "--steps", "3")).code());
        byte[] before = Files.readAllBytes(out.resolve(Checkpoint.FILE));

        Run again = run(train(out, "--steps", "2"));
        assertOneLineError(again, out.toString(), "already holds a training run", "--resume", "--force");
        assertArrayEquals(before, Files.readAllBytes(out.resolve(Checkpoint.FILE)), "the run is untouched");
        assertTrue(again.out().isEmpty(), "refused before training: " + again.out());

        Run forced = run(train(out, "--steps", "2", "--force"));
        assertEquals(0, forced.code(), forced.err());
        assertEquals(2, Checkpoint.read(out).options().steps());
        assertOneLineError(run("train", "--resume", "--force", "--out", out.toString()), "--resume and --force");
    }

    @Test
    void resumeExtendsStepsAndRefusesChangesToTheRun(@TempDir Path dir) {
        Path out = dir.resolve("run");
        assertEquals(0, run(train(out, "--steps", "3")).code());

        Run changed = run("train", "--resume", "--dim", "16", "--out", out.toString());
        assertOneLineError(changed, "--dim 16 differs from the run's 8");
        assertOneLineError(run("train", "--resume", "--router", "noisy", "--out", out.toString()), "--router noisy differs from the run's softmax");
        assertOneLineError(run("train", "--resume", "--lr", "0.01", "--out", out.toString()), "--lr 0.01 differs from the run's 0.003");
        assertOneLineError(run("train", "--resume", "--steps", "2", "--out", out.toString()), "invalid --steps: 2", "completed 3");
        assertEquals(3, Checkpoint.read(out).step());

        Run same = run("train", "--resume", "--dim", "8", "--out", out.toString(), "--no-export");
        assertEquals(0, same.code(), same.err());
        assertTrue(same.out().contains("The run is complete; --steps N extends it."), same.out());

        Run extended = run("train", "--resume", "--steps", "5", "--checkpoint-every", "1", "--out", out.toString(), "--no-export");
        assertEquals(0, extended.code(), extended.err());
        assertTrue(extended.out().contains("at step 3 of 5 (extended from 3)"), extended.out());
        Checkpoint c = Checkpoint.read(out);
        assertEquals(5, c.step());
        assertEquals(5, c.options().steps());
        assertEquals(1, c.options().checkpointEvery());
    }

    @Test
    void anUnwritableOutFailsBeforeTheFirstStep(@TempDir Path dir) throws Exception {
        Path locked = unwritableFolder(dir);
        for (Path out : List.of(locked, locked.resolve("run"))) {
            Run r = run(train(out, "--steps", "100"));
            assertOneLineError(r, out.toString(), out.equals(locked) ? "cannot write into the folder" : "cannot create the folder");
            assertTrue(r.out().isEmpty(), "nothing trained: " + r.out());
            assertFalse(Files.exists(locked.resolve(Checkpoint.FILE + ".tmp")));
        }
        Path file = Files.writeString(dir.resolve("a-file"), "x");
        assertOneLineError(run(train(file, "--steps", "100")), file.toString(), "not a folder");
    }

    @Test
    void badInputLeavesOutUntouched(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("run");
        assertOneLineError(run(train(out, "--data", dir.resolve("missing.txt").toString())), "missing.txt: no such file");
        Path tiny = Files.writeString(dir.resolve("tiny.txt"), "abc\n");
        assertOneLineError(run(train(out, "--data", tiny.toString(), "--vocab", "257")), "too little text");
        assertOneLineError(run(train(out, "--vocab", "300")), "--vocab needs --data");
        assertOneLineError(run(train(out, "--clip", "NaN")), "invalid --clip: NaN");
        assertFalse(Files.exists(out), "a run that never started leaves no folder behind");
    }

    @Test
    void aFailedFreeSpaceCheckLeavesNoFolderItMade(@TempDir Path dir) throws Exception {
        // every step's history row is kept in the checkpoint: 2^31-1 steps need some 320 GiB for two of them
        Path out = dir.resolve("new/nested/run");
        String steps = "" + Integer.MAX_VALUE;
        Assumptions.assumeTrue(Files.getFileStore(dir).getUsableSpace() < (300L << 30), "skipped: over 300 GiB free in " + dir);
        Run r = run(train(out, "--steps", steps));
        assertOneLineError(r, out.toString(), "two checkpoints need about ");
        assertTrue(r.err().strip().matches(".* need about (" + TrainMessagesTest.SIZE + "), only (" + TrainMessagesTest.SIZE + ") free"), r.err());
        assertFalse(Files.exists(dir.resolve("new")), "the folders the run made are gone");

        Path existing = Files.createDirectories(dir.resolve("mine"));
        assertOneLineError(run(train(existing.resolve("run"), "--steps", steps)), "two checkpoints need about ");
        assertTrue(Files.isDirectory(existing) && !Files.exists(existing.resolve("run")), "a folder that was there stays");
    }

    @Test
    void aDamagedCheckpointIsRefused(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("run");
        assertEquals(0, run(train(out, "--steps", "2")).code());
        Path f = out.resolve(Checkpoint.FILE);
        byte[] b = Files.readAllBytes(f);
        b[b.length / 2] ^= 0x01;  // inside the weights or a moment
        Files.write(f, b);
        assertOneLineError(run("train", "--resume", "--steps", "4", "--out", out.toString()), f.toString(), "fails its CRC32C checksum");
    }

    @Test
    void aDivergingRunExitsNonZeroKeepingItsLastCheckpoint(@TempDir Path dir) {
        Path out = dir.resolve("run");
        Run r = run(train(out, "--steps", "10", "--lr", "1e300", "--checkpoint-every", "1"));
        assertOneLineError(r, "step 2: ", "training diverged", "still holds step 1");
        assertEquals(1, Checkpoint.read(out).step());
    }

    @Test
    void helpPrintsNoPicocliWarnings() throws Exception {
        for (String command : List.of("train", "demo")) {
            List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "--add-modules",
                    "jdk.incubator.vector", "-cp", System.getProperty("java.class.path"), Main.class.getName(), command, "--help");
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String text = new String(p.getInputStream().readAllBytes());
            assertEquals(0, p.waitFor(), text);
            assertTrue(text.contains("Usage: moe4j " + command), text);
            assertFalse(text.contains("picocli WARN"), text);
        }
    }

    /**
     * A folder this process cannot create files in: a read-only one of our own where permissions bind (not root),
     * else sysfs, which refuses new files even to root.
     */
    static Path unwritableFolder(Path tmp) throws IOException {
        Path ro = Files.createDirectory(tmp.resolve("read-only"));
        Files.setPosixFilePermissions(ro, PosixFilePermissions.fromString("r-xr-xr-x"));
        for (Path candidate : List.of(ro, Path.of("/sys/kernel"))) {
            if (!Files.isDirectory(candidate)) continue;
            try {
                Files.delete(Files.createTempFile(candidate, "probe", ".tmp"));
            } catch (IOException refused) {
                return candidate;
            }
        }
        Assumptions.abort("no folder refuses writes here (root, and no read-only sysfs)");
        return null;
    }
}
