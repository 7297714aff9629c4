package dev.moe4j.kernel;

import dev.moe4j.tensor.DType;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import java.util.Random;

import static dev.moe4j.kernel.DequantTest.assertClose;
import static dev.moe4j.kernel.DequantTest.bound;
import static dev.moe4j.kernel.DequantTest.randoms;
import static dev.moe4j.kernel.DequantTest.rows;
import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

class KQuantsTest {
    static final DType[] K_TYPES = {DType.Q4_K, DType.Q6_K};

    @Test
    void blockSizesMatchGgml() {
        assertEquals(144, DType.Q4_K.blockBytes);
        assertEquals(210, DType.Q6_K.blockBytes);
        assertEquals(DType.Q4_K, DType.fromGgml(12));
        assertEquals(DType.Q6_K, DType.fromGgml(14));
    }

    @Test
    void dequantizeAndDotMatchScalar() {
        Random r = new Random(11);
        for (DType t : K_TYPES) {
            for (int cols : new int[]{256, 512, 1280}) {
                int rowCount = 3;
                MemorySegment seg = rows(t, r, rowCount, cols, 5);
                float[] x = randoms(r, cols + 3);
                for (int i = 0; i < rowCount; i++) {
                    long off = 5 + i * t.bytesFor(cols);
                    float[] want = new float[cols], got = new float[cols];
                    ScalarKernels.dequantize(t, seg, off, want, 0, cols);
                    Dequant.dequantize(t, seg, off, got, 0, cols);
                    assertArrayEquals(want, got, t + " cols=" + cols);
                    assertClose(ScalarKernels.dot(t, seg, off, x, 3, cols), Dequant.dot(t, seg, off, x, 3, cols),
                            bound(want, x, 3), t + " dot cols=" + cols);
                }
            }
        }
    }

    /**
     * Random bytes as blocks (every scale, min, sign and bit pattern, unlike the quantiser's output), with random
     * finite f16 d / dmin, in odd-sized row sets at an odd offset of a native segment; x at an odd offset.
     */
    static MemorySegment randomBlocks(DType t, Random r, Arena arena, int rows, int cols, int pad) {
        long rowBytes = t.bytesFor(cols);
        MemorySegment seg = arena.allocate(pad + rows * rowBytes);
        for (long i = 0; i < seg.byteSize(); i++) seg.set(ValueLayout.JAVA_BYTE, i, (byte) r.nextInt());
        for (long blk = pad; blk < seg.byteSize(); blk += t.blockBytes) {
            float scale = (float) Math.scalb(r.nextFloat(), -r.nextInt(12));
            if (t == DType.Q4_K) {
                seg.set(LittleEndian.SHORT, blk, Float.floatToFloat16(scale));
                seg.set(LittleEndian.SHORT, blk + 2, Float.floatToFloat16((r.nextBoolean() ? 1 : -1) * r.nextFloat() * scale));
            } else {
                seg.set(LittleEndian.SHORT, blk + 208, Float.floatToFloat16((r.nextBoolean() ? 1 : -1) * scale));
            }
        }
        return seg;
    }

    @Test
    void randomBlocksMatchScalar() {
        Random r = new Random(13);
        try (Arena arena = Arena.ofConfined()) {
            for (DType t : K_TYPES) {
                for (int cols : new int[]{256, 768, 2048}) {
                    int rowCount = 5, pad = 7;
                    MemorySegment seg = randomBlocks(t, r, arena, rowCount, cols, pad);
                    float[] x = randoms(r, cols + 1);
                    for (int i = 0; i < rowCount; i++) {
                        long off = pad + i * t.bytesFor(cols);
                        float[] want = new float[cols], got = new float[cols + 9];
                        ScalarKernels.dequantize(t, seg, off, want, 0, cols);
                        Dequant.dequantize(t, seg, off, got, 9, cols);
                        assertArrayEquals(want, java.util.Arrays.copyOfRange(got, 9, cols + 9), t + " cols=" + cols + " row " + i);
                        assertClose(ScalarKernels.dot(t, seg, off, x, 1, cols), Dequant.dot(t, seg, off, x, 1, cols),
                                10 * bound(want, x, 1), t + " dot cols=" + cols + " row " + i);
                    }
                }
            }
        }
    }

    @Test
    void compiledKernelsStillMatchScalar() {
        // Enough calls for C2 to compile the kernels (the test above mostly runs them interpreted), then compare.
        Random r = new Random(14);
        int cols = 1024, rowCount = 3;
        try (Arena arena = Arena.ofConfined()) {
            for (DType t : K_TYPES) {
                MemorySegment seg = randomBlocks(t, r, arena, rowCount, cols, 3);
                float[] x = randoms(r, cols), tile = new float[cols];
                float[][] want = new float[rowCount][cols];
                double[] wantDot = new double[rowCount];
                for (int i = 0; i < rowCount; i++) {
                    ScalarKernels.dequantize(t, seg, 3 + i * t.bytesFor(cols), want[i], 0, cols);
                    wantDot[i] = ScalarKernels.dot(t, seg, 3 + i * t.bytesFor(cols), x, 0, cols);
                }
                for (int rep = 0; rep < 4000; rep++) {
                    int i = rep % rowCount;
                    long off = 3 + i * t.bytesFor(cols);
                    float got = Dequant.dot(t, seg, off, x, 0, cols);
                    if (rep % 97 == 0 || rep >= 3990) assertClose(wantDot[i], got, 10 * bound(want[i], x, 0), t + " dot rep " + rep);
                    Dequant.dequantize(t, seg, off, tile, 0, cols);
                    if (rep % 97 == 0 || rep >= 3990) assertArrayEquals(want[i], tile, t + " dequantize rep " + rep);
                }
            }
        }
    }

    @Test
    void compiledKernelsDoNotAllocate() throws Exception {
        // If C2 fails to inline the kernels' vector operations (its inlining node cutoff is easy to hit with the
        // Vector API) it boxes every vector: still correct, but 30-100x slower. Once compiled they allocate nothing.
        // Checked in a JVM of its own, as a model run has it: after the rest of the suite (every dtype, heap, native
        // and mapped segments) the kernels' compiled code in this JVM sometimes still boxed after 150 000 calls.
        var jvmArgs = ManagementFactory.getRuntimeMXBean().getInputArguments();
        assumeFalse(jvmArgs.stream().anyMatch(a -> a.startsWith("-XX:TieredStopAtLevel") || a.equals("-Xint")),
                "needs C2");
        String javaCommand = ProcessHandle.current().info().command().orElseThrow();
        Process p = new ProcessBuilder(javaCommand, "--add-modules", "jdk.incubator.vector", "-cp", System.getProperty("java.class.path"),
                AllocationCheck.class.getName()).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(120, java.util.concurrent.TimeUnit.SECONDS), "allocation check did not finish");
        System.out.print(output.lines().filter(l -> !l.startsWith("WARNING")).map(l -> l + "\n").reduce("", String::concat));
        assertEquals(0, p.exitValue(), output);
    }

    /** The allocation check's own JVM: exits 1 naming the type whose compiled kernels allocate. */
    static final class AllocationCheck {
        public static void main(String[] args) {
            var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
            Random r = new Random(15);
            int cols = 1024;
            float sink = 0;
            try (Arena arena = Arena.ofConfined()) {
                for (DType t : K_TYPES) {
                    MemorySegment seg = randomBlocks(t, r, arena, 1, cols, 0);
                    float[] x = randoms(r, cols), tile = new float[cols];
                    long used = Long.MAX_VALUE;
                    // Until compiled: each round is 1000 calls of each kernel; give C2 up to 40 rounds.
                    for (int round = 0; round < 40 && used > 16_384; round++) {
                        long before = threads.getCurrentThreadAllocatedBytes();
                        for (int i = 0; i < 1000; i++) {
                            sink += Dequant.dot(t, seg, 0, x, 0, cols);
                            Dequant.dequantize(t, seg, 0, tile, 0, cols);
                        }
                        used = threads.getCurrentThreadAllocatedBytes() - before;
                    }
                    System.out.println(t + ": 1000 compiled dot + dequantize calls allocate " + used + " bytes");
                    if (used > 16_384 || !Float.isFinite(sink)) {
                        System.out.println(t + ": compiled kernels allocate (boxed vectors?)");
                        System.exit(1);
                    }
                }
            }
        }
    }

    @Test
    void roundTripErrorIsSmall() {
        Random r = new Random(12);
        float[] x = randoms(r, 256 * 16);
        for (DType t : K_TYPES) {
            byte[] q = Quantize.encode(t, x);
            float[] y = new float[x.length];
            Dequant.dequantize(t, MemorySegment.ofArray(q), 0, y, 0, x.length);
            double err = 0, sum = 0;
            for (int i = 0; i < x.length; i++) {
                err += (x[i] - y[i]) * (x[i] - y[i]);
                sum += x[i] * x[i];
            }
            double rel = Math.sqrt(err / sum);
            // 4 bits with a per-32 min/max grid: ~7% RMS; 6 bits: ~2% (ggml's search gets a little less).
            assertTrue(rel < (t == DType.Q4_K ? 0.12 : 0.035), t + " relative RMS error " + rel);
            assertTrue(rel > 0, t + " lossless is suspicious");
        }
    }

    @Test
    void q6kLayoutPlacesBitsWhereGgmlDoes() {
        // One block with d = 1, scales 1, and chosen 6-bit codes at positions in each quarter of each half.
        MemorySegment b = MemorySegment.ofArray(new byte[210]);
        b.set(LittleEndian.SHORT, 208, Float.floatToFloat16(1f));
        for (int j = 0; j < 16; j++) b.set(ValueLayout.JAVA_BYTE, 192 + j, (byte) 1);
        // value 32*q + l of half h: low nibble in ql[64h + l + 32*(q%2)] (low for q<2, high for q>=2),
        // high pair in qh[32h + l] bits 2q..2q+1.
        int h = 1, l = 5;
        int[] codes = {0x3F, 0x21, 0x12, 0x05};
        for (int q = 0; q < 4; q++) {
            int at = 64 * h + l + 32 * (q % 2);
            int cur = b.get(ValueLayout.JAVA_BYTE, at) & 0xFF;
            b.set(ValueLayout.JAVA_BYTE, at, (byte) (cur | (q < 2 ? codes[q] & 0xF : (codes[q] & 0xF) << 4)));
            int hb = b.get(ValueLayout.JAVA_BYTE, 128 + 32 * h + l) & 0xFF;
            b.set(ValueLayout.JAVA_BYTE, 128 + 32 * h + l, (byte) (hb | (codes[q] >> 4) << (2 * q)));
        }
        float[] y = new float[256];
        Dequant.dequantize(DType.Q6_K, b, 0, y, 0, 256);
        for (int q = 0; q < 4; q++) assertEquals(codes[q] - 32, y[128 * h + 32 * q + l], "quarter " + q);
        assertEquals(-32, y[0]);
    }

    @Test
    void q4kLayoutUsesPackedSixBitScales() {
        MemorySegment b = MemorySegment.ofArray(new byte[144]);
        b.set(LittleEndian.SHORT, 0, Float.floatToFloat16(1f));
        b.set(LittleEndian.SHORT, 2, Float.floatToFloat16(1f));
        // sub-block 5: scale = (s[9] & 0xF) | (s[1] >> 6) << 4, min = (s[9] >> 4) | (s[5] >> 6) << 4
        b.set(ValueLayout.JAVA_BYTE, 4 + 9, (byte) 0x32);   // scale low 2, min low 3
        b.set(ValueLayout.JAVA_BYTE, 4 + 1, (byte) 0x40);   // scale high bits 01 -> +16
        b.set(ValueLayout.JAVA_BYTE, 4 + 5, (byte) 0x80);   // min high bits 10 -> +32
        // sub-block 5 is the high nibbles of chunk 2: qs[64 + l] >> 4
        b.set(ValueLayout.JAVA_BYTE, 16 + 64 + 7, (byte) 0x90);
        float[] y = new float[256];
        Dequant.dequantize(DType.Q4_K, b, 0, y, 0, 256);
        assertEquals(18 * 9 - 35, y[160 + 7]);
        assertEquals(-35, y[160]);
    }
}
