package dev.moe4j.kernel;

import dev.moe4j.tensor.DType;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Random;

import static dev.moe4j.kernel.DequantTest.assertClose;
import static dev.moe4j.kernel.DequantTest.bound;
import static dev.moe4j.kernel.DequantTest.randoms;
import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

/**
 * The i-quants (IQ1_S, IQ1_M, IQ2_XXS, IQ2_XS, IQ2_S, IQ3_XXS, IQ3_S): the scalar readers and the vector
 * kernels against llama.cpp's numpy reference ({@code iq-golden/*.bin}, written by {@code scripts/iq-golden.py}),
 * and the vector kernels (dequantise, dot, prefill tiles) against the scalar readers on random blocks.
 */
class IQuantsTest {
    static final DType[] IQ_TYPES = {DType.IQ1_S, DType.IQ1_M, DType.IQ2_XXS, DType.IQ2_XS, DType.IQ2_S, DType.IQ3_XXS, DType.IQ3_S};

    @Test
    void idsAndBlockSizesMatchGgml() {
        // ggml.h's type ids and ggml-common.h's block sizes (sizeof(block_iq*)).
        int[] ids = {19, 29, 16, 17, 22, 18, 21}, bytes = {50, 56, 66, 74, 82, 98, 110};
        for (int i = 0; i < IQ_TYPES.length; i++) {
            assertEquals(IQ_TYPES[i], DType.fromGgml(ids[i]));
            assertEquals(256, IQ_TYPES[i].blockSize, IQ_TYPES[i].name());
            assertEquals(bytes[i], IQ_TYPES[i].blockBytes, IQ_TYPES[i].name());
        }
    }

    /** One type's golden file: blocks and numpy's values of them. */
    record Golden(int randomBlocks, int coverageBlocks, byte[] blocks, float[] randomValues, byte[] coverageSha256) {
        static Golden read(DType t) throws IOException {
            try (InputStream in = IQuantsTest.class.getResourceAsStream("iq-golden/" + t + ".bin")) {
                assertNotNull(in, "iq-golden/" + t + ".bin missing");
                ByteBuffer b = ByteBuffer.wrap(in.readAllBytes()).order(ByteOrder.LITTLE_ENDIAN);
                int r = b.getInt(), c = b.getInt();
                byte[] blocks = new byte[(r + c) * t.blockBytes];
                b.get(blocks);
                float[] values = new float[r * 256];
                b.asFloatBuffer().get(values);
                b.position(b.position() + 4 * values.length);
                byte[] sha = new byte[32];
                b.get(sha);
                assertFalse(b.hasRemaining(), t + ": trailing bytes in the golden file");
                return new Golden(r, c, blocks, values, sha);
            }
        }
    }

    static byte[] sha256(float[] values) {
        ByteBuffer b = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(values);
        try {
            return MessageDigest.getInstance("SHA-256").digest(b.array());
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void dequantizationEqualsLlamaCppsNumpyReferenceBitForBit() throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            for (DType t : IQ_TYPES) {
                Golden g = Golden.read(t);
                int pad = 3;   // an odd offset, as tensors in a mapped file can have
                MemorySegment seg = arena.allocate(pad + g.blocks.length);
                MemorySegment.copy(g.blocks, 0, seg, ValueLayout.JAVA_BYTE, pad, g.blocks.length);
                TypeKernels k = TypeKernels.of(t);
                int n = g.randomBlocks * 256, nc = g.coverageBlocks * 256;
                float[] vector = new float[n + 5], scalar = new float[n];
                k.dequantize(seg, pad, vector, 5, n);
                k.referenceDequantize(seg, pad, scalar, 0, n);
                for (int i = 0; i < n; i++) {
                    int want = Float.floatToRawIntBits(g.randomValues[i]);
                    assertEquals(want, Float.floatToRawIntBits(scalar[i]), t + " get, value " + i + ": " + g.randomValues[i] + " vs " + scalar[i]);
                    assertEquals(want, Float.floatToRawIntBits(vector[5 + i]), t + " dequantize, value " + i + ": " + g.randomValues[i] + " vs " + vector[5 + i]);
                }
                long coverage = pad + (long) g.randomBlocks * t.blockBytes;
                float[] all = new float[nc];
                k.referenceDequantize(seg, coverage, all, 0, nc);
                assertEquals(HexFormat.of().formatHex(g.coverageSha256), HexFormat.of().formatHex(sha256(all)), t + " get over every grid entry");
                k.dequantize(seg, coverage, all, 0, nc);
                assertEquals(HexFormat.of().formatHex(g.coverageSha256), HexFormat.of().formatHex(sha256(all)), t + " dequantize over every grid entry");
            }
        }
    }

    /** Sets the f16 scale d of the block at {@code blk} (IQ1_M keeps it in the top nibbles of its scale words). */
    static void setD(DType t, MemorySegment seg, long blk, short bits) {
        if (t != DType.IQ1_M) {
            seg.set(LittleEndian.SHORT, blk, bits);
            return;
        }
        for (int i = 0; i < 4; i++) {
            long at = blk + 48 + 2 * i;
            int word = seg.get(LittleEndian.SHORT, at) & 0x0FFF | (bits >>> 4 * i & 0xF) << 12;
            seg.set(LittleEndian.SHORT, at, (short) word);
        }
    }

    /** Random bytes as {@code rows} rows of {@code cols} values after {@code pad} bytes; each d random, finite, of either sign. */
    static MemorySegment randomBlocks(DType t, Random r, Arena arena, int rows, int cols, int pad) {
        long rowBytes = t.bytesFor(cols);
        MemorySegment seg = arena.allocate(pad + rows * rowBytes);
        for (long i = 0; i < seg.byteSize(); i++) seg.set(ValueLayout.JAVA_BYTE, i, (byte) r.nextInt());
        for (long blk = pad; blk < seg.byteSize(); blk += t.blockBytes)
            setD(t, seg, blk, Float.floatToFloat16((r.nextBoolean() ? 1 : -1) * (float) Math.scalb(r.nextFloat(), -r.nextInt(12))));
        return seg;
    }

    @Test
    void randomBlocksMatchScalarInOddRowSets() {
        Random r = new Random(41);
        try (Arena arena = Arena.ofConfined()) {
            for (DType t : IQ_TYPES) {
                for (int cols : new int[]{256, 768, 1280}) {
                    int rowCount = 5, pad = 7;
                    MemorySegment seg = randomBlocks(t, r, arena, rowCount, cols, pad);
                    float[] x = randoms(r, cols + 1);
                    for (int i = 0; i < rowCount; i++) {
                        long off = pad + i * t.bytesFor(cols);
                        float[] want = new float[cols], got = new float[cols + 9];
                        ScalarKernels.dequantize(t, seg, off, want, 0, cols);
                        Dequant.dequantize(t, seg, off, got, 9, cols);
                        assertArrayEquals(want, Arrays.copyOfRange(got, 9, cols + 9), t + " cols=" + cols + " row " + i);
                        assertClose(ScalarKernels.dot(t, seg, off, x, 1, cols), Dequant.dot(t, seg, off, x, 1, cols),
                                10 * bound(want, x, 1), t + " dot cols=" + cols + " row " + i);
                    }
                }
            }
        }
    }

    @Test
    void prefillTilesMatchScalarDots() {
        // Several tokens go through Gemm's dequantised float tiles: odd row and token counts leave partial tiles.
        Random r = new Random(42);
        int rows = 7, cols = 512, tokens = 5;
        try (Arena arena = Arena.ofConfined()) {
            for (DType t : IQ_TYPES) {
                MemorySegment seg = randomBlocks(t, r, arena, rows, cols, 1);
                float[] x = randoms(r, tokens * cols), out = new float[tokens * rows];
                long rowBytes = t.bytesFor(cols);
                Gemm.rows(t, seg, 1, rowBytes, cols, 0, rows, x, 0, tokens, out, 0, rows);
                float[] row = new float[cols];
                for (int i = 0; i < rows; i++) {
                    ScalarKernels.dequantize(t, seg, 1 + i * rowBytes, row, 0, cols);
                    for (int j = 0; j < tokens; j++)
                        assertClose(ScalarKernels.dot(t, seg, 1 + i * rowBytes, x, j * cols, cols), out[j * rows + i],
                                10 * bound(row, x, j * cols), t + " row " + i + " token " + j);
                }
            }
        }
    }

    @Test
    void compiledKernelsMatchScalarAndDoNotAllocate() throws Exception {
        // The tests above mostly run the kernels interpreted. Once C2 compiles them they must still agree with
        // the scalar readers, and allocate nothing: a kernel whose vectors C2 failed to inline (its inlining node
        // cutoff is easy to hit with the Vector API) boxes every vector, correct but many times slower. Checked
        // in a JVM of its own, as a model run has it (see KQuantsTest).
        var jvmArgs = ManagementFactory.getRuntimeMXBean().getInputArguments();
        assumeFalse(jvmArgs.stream().anyMatch(a -> a.startsWith("-XX:TieredStopAtLevel") || a.equals("-Xint")), "needs C2");
        String javaCommand = ProcessHandle.current().info().command().orElseThrow();
        Process p = new ProcessBuilder(javaCommand, "--add-modules", "jdk.incubator.vector", "-cp", System.getProperty("java.class.path"),
                CompiledCheck.class.getName()).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(120, java.util.concurrent.TimeUnit.SECONDS), "compiled-kernel check did not finish");
        System.out.print(output.lines().filter(l -> !l.startsWith("WARNING")).map(l -> l + "\n").reduce("", String::concat));
        assertEquals(0, p.exitValue(), output);
    }

    /** The compiled-kernel check's own JVM: exits 1 naming the type whose compiled kernels allocate or disagree. */
    static final class CompiledCheck {
        public static void main(String[] args) {
            var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
            Random r = new Random(44);
            int cols = 512, rowCount = 3;
            try (Arena arena = Arena.ofConfined()) {
                for (DType t : IQ_TYPES) {
                    MemorySegment seg = randomBlocks(t, r, arena, rowCount, cols, 3);
                    long rowBytes = t.bytesFor(cols);
                    float[] x = randoms(r, cols), tile = new float[cols];
                    float sink = 0;
                    long used = Long.MAX_VALUE;
                    for (int round = 0; round < 40 && used > 16_384; round++) {   // 1000 calls a round until compiled
                        long before = threads.getCurrentThreadAllocatedBytes();
                        for (int i = 0; i < 1000; i++) {
                            sink += Dequant.dot(t, seg, 3 + i % rowCount * rowBytes, x, 0, cols);
                            Dequant.dequantize(t, seg, 3 + i % rowCount * rowBytes, tile, 0, cols);
                        }
                        used = threads.getCurrentThreadAllocatedBytes() - before;
                    }
                    System.out.println(t + ": 1000 compiled dot + dequantize calls allocate " + used + " bytes" + (Float.isNaN(sink) ? " (NaN)" : ""));
                    if (used > 16_384) fail(t + ": compiled kernels allocate (boxed vectors?)");
                    float[] want = new float[cols];
                    for (int i = 0; i < rowCount; i++) {
                        long off = 3 + i * rowBytes;
                        ScalarKernels.dequantize(t, seg, off, want, 0, cols);
                        Dequant.dequantize(t, seg, off, tile, 0, cols);
                        if (!Arrays.equals(want, tile)) fail(t + ": compiled dequantize differs from get in row " + i);
                        double wantDot = ScalarKernels.dot(t, seg, off, x, 0, cols), got = Dequant.dot(t, seg, off, x, 0, cols);
                        if (!(Math.abs(wantDot - got) <= 10 * bound(want, x, 0)))
                            fail(t + ": compiled dot " + got + " differs from the scalar " + wantDot + " in row " + i);
                    }
                }
            }
        }

        private static void fail(String message) {
            System.out.println(message);
            System.exit(1);
        }
    }
}
