package dev.moe4j.format.gguf;

import dev.moe4j.tensor.DType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A write that fails part way, by an I/O error or by an exception from a tensor's source, leaves neither the file nor its .tmp. */
class GgufWriterCleanupTest {
    @TempDir Path dir;

    private static GgufWriter writerFailingAfter(int bytes, RuntimeException failure) {
        GgufWriter w = new GgufWriter();
        w.addTensor("first", DType.F32, new long[] {64}, new float[64]);
        w.addTensor("second", DType.F32, new long[] {1024}, out -> {
            out.write(new byte[bytes]);
            out.flush(); // the half-written data reaches the .tmp
            throw failure;
        });
        return w;
    }

    @Test
    void anExceptionFromATensorSourceRemovesTheTmp() {
        Path out = dir.resolve("m.gguf");
        IllegalStateException boom = new IllegalStateException("source failed");
        RuntimeException thrown = assertThrows(RuntimeException.class, () -> writerFailingAfter(100, boom).write(out));
        assertSame(boom, thrown, "the source's exception reaches the caller unchanged");
        assertFalse(Files.exists(out));
        assertFalse(Files.exists(dir.resolve("m.gguf.tmp")), "no unfinished .tmp");
    }

    @Test
    void anIoErrorRemovesTheTmpAndNamesTheFile() {
        Path out = dir.resolve("m.gguf");
        GgufWriter w = new GgufWriter();
        w.addTensor("t", DType.F32, new long[] {16}, o -> { throw new IOException("device full"); });
        UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> w.write(out));
        assertTrue(e.getMessage().contains("m.gguf") && e.getMessage().contains("device full"), e.getMessage());
        assertFalse(Files.exists(dir.resolve("m.gguf.tmp")));
    }

    @Test
    void aCompleteWriteLeavesOnlyTheFile() throws IOException {
        Path out = dir.resolve("m.gguf");
        GgufWriter w = new GgufWriter();
        w.addTensor("t", DType.F32, new long[] {16}, new float[16]);
        w.write(out);
        assertTrue(Files.size(out) > 64);
        try (var files = Files.list(dir)) {
            assertEquals(1, files.count(), "only m.gguf");
        }
    }
}
