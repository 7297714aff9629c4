package dev.moe4j.cli;

import dev.moe4j.util.Moe4jException;
import dev.moe4j.util.Units;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

import static dev.moe4j.cli.CliTest.assertOneLineError;
import static dev.moe4j.cli.CliTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What synth and quantize check before writing: the folder, that the path is not a folder, the free space. */
class OutputFileTest {
    @TempDir Path dir;

    @Test
    void aMissingFolderOrAFolderAsOutputIsAOneLineError() throws Exception {
        Path input = dir.resolve("in.gguf");
        assertEquals(0, run("synth", "--shape", "tiny", "--type", "f16", "--out", input.toString()).code());
        Path missing = dir.resolve("no-such-folder/out.gguf");
        assertOneLineError(run("synth", "--shape", "tiny", "--out", missing.toString()), "no-such-folder", "does not exist");
        assertOneLineError(run("quantize", "--model", input.toString(), "--type", "q8_0", "--out", missing.toString()),
                "no-such-folder", "does not exist");
        assertOneLineError(run("synth", "--shape", "tiny", "--out", dir.toString()), dir.toString(), "is a folder");
        assertOneLineError(run("quantize", "--model", input.toString(), "--type", "q8_0", "--out", dir.toString()), "is a folder");
        assertFalse(Files.exists(missing.getParent()));
        Path file = dir.resolve("a-file");
        Files.writeString(file, "x");
        assertOneLineError(run("synth", "--shape", "tiny", "--out", file.resolve("out.gguf").toString()), "a-file is not a folder");
    }

    @Test
    void anIoErrorWhileWritingIsOneLineNamingTheFile() throws Exception {
        // The writer's own .tmp name is taken by a folder with something in it: opening it for writing fails.
        Path out = dir.resolve("out.gguf");
        Files.createDirectories(dir.resolve("out.gguf.tmp/keep"));
        assertOneLineError(run("synth", "--shape", "tiny", "--out", out.toString()), "out.gguf.tmp");
        assertFalse(Files.exists(out));
    }

    @Test
    void aWriteLargerThanTheFreeSpaceIsRefusedNamingPathAndSizes() throws Exception {
        Path out = dir.resolve("big.gguf");
        long free = Files.getFileStore(dir).getUsableSpace();
        long needed = free + (1L << 30); // a GiB more than is free: no other writer frees that much meanwhile
        boolean[] wrote = {false};
        Moe4jException e = assertThrows(Moe4jException.class, () -> OutputFile.write(out, new PrintWriter(new StringWriter()), f -> {
            f.requireSpace(needed);
            wrote[0] = true;
        }));
        assertTrue(e.getMessage().startsWith(out + ": needs " + Units.bytes(needed) + " but only "), e.getMessage());
        assertTrue(e.getMessage().contains(" free in " + dir), e.getMessage());
        assertFalse(wrote[0], "the writer stopped at the check");
        OutputFile.write(out, new PrintWriter(new StringWriter()), f -> f.requireSpace(1 << 20)); // a MiB fits
        assertFalse(Files.exists(out));
    }

    @Test
    void aFileSystemWithNoRoomSaysZeroBytesFree() {
        // procfs reports no free space; root may create files there as far as Files.isWritable can tell
        Path proc = Path.of("/proc");
        Assumptions.assumeTrue(Files.isDirectory(proc) && Files.isWritable(proc), "skipped: /proc is absent or not writable for this user");
        Path out = proc.resolve("moe4j-test.gguf");
        assertOneLineError(run("synth", "--shape", "tiny", "--out", out.toString()), out + ": needs ", " but only 0 bytes free in /proc");
    }
}
