package dev.moe4j.kernel;

import dev.moe4j.tensor.DType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

import static dev.moe4j.kernel.DequantTest.assertClose;
import static dev.moe4j.kernel.DequantTest.bound;
import static dev.moe4j.kernel.DequantTest.randoms;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Q4_1, Q5_0, Q5_1, Q2_K, Q3_K, Q5_K, IQ4_NL and IQ4_XS: the scalar reader and the vector dequantiser against
 * llama.cpp's own numpy reference bit for bit, and the decode (dot) and prefill (matmul) kernels against the
 * scalar reader on random blocks with edge scales, odd row counts and odd offsets.
 *
 * <p>{@code ggml/dequant-reference.bin} was made with llama.cpp's gguf-py ({@code gguf.quants.dequantize}, the
 * August 2026 snapshot), outside this project: for each type, seeded random bytes as blocks (48 blocks of 32
 * values, or 6 super-blocks of 256), with every f16 scale field (d; m or dmin where the type has one) set to a
 * finite value: 0, −0, ±65504, ±6e-8 (subnormal), 6.1035e-5, ±1 in turn on the first blocks, then normal random
 * values of magnitude 2^-14 to 2^4. Layout, little-endian, per type: a byte n, the n ASCII bytes of the type's
 * name, u32 block count, u32 byte count, the block bytes, then the dequantised values as float32.
 */
class QuantTypesTest {
    static final DType[] TYPES = {DType.Q4_1, DType.Q5_0, DType.Q5_1, DType.Q2_K, DType.Q3_K, DType.Q5_K, DType.IQ4_NL, DType.IQ4_XS};

    /** Byte offsets of each type's f16 scale fields within a block. */
    static int[] f16Fields(DType t) {
        return switch (t) {
            case Q4_1, Q5_1, Q5_K -> new int[]{0, 2};
            case Q2_K -> new int[]{80, 82};
            case Q3_K -> new int[]{108};
            default -> new int[]{0};
        };
    }

    record Reference(byte[] blocks, float[] values) {}

    static Map<DType, Reference> references() throws IOException {
        Map<DType, Reference> out = new LinkedHashMap<>();
        try (InputStream in = QuantTypesTest.class.getResourceAsStream("/ggml/dequant-reference.bin")) {
            assertNotNull(in, "resource ggml/dequant-reference.bin");
            DataInputStream d = new DataInputStream(in);
            int n;
            while ((n = d.read()) >= 0) {
                DType t = DType.valueOf(new String(d.readNBytes(n), java.nio.charset.StandardCharsets.US_ASCII));
                int blocks = Integer.reverseBytes(d.readInt()), bytes = Integer.reverseBytes(d.readInt());
                assertEquals(t.blockBytes * blocks, bytes, t + " block bytes");
                byte[] raw = d.readNBytes(bytes);
                float[] values = new float[blocks * t.blockSize];
                ByteBuffer.wrap(d.readNBytes(4 * values.length)).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(values);
                out.put(t, new Reference(raw, values));
            }
        }
        return out;
    }

    @AfterEach
    void restoreThreads() {
        Parallel.setThreads(Runtime.getRuntime().availableProcessors());
    }

    @Test
    void dequantisationEqualsLlamaCppsNumpyReferenceBitForBit() throws IOException {
        Map<DType, Reference> refs = references();
        assertEquals(java.util.Set.of(TYPES), refs.keySet());
        try (Arena arena = Arena.ofConfined()) {
            for (var e : refs.entrySet()) {
                DType t = e.getKey();
                float[] want = e.getValue().values();
                // At an odd offset of native memory, as a mapped file's tensor may be.
                MemorySegment seg = arena.allocate(e.getValue().blocks().length + 3);
                MemorySegment.copy(e.getValue().blocks(), 0, seg, ValueLayout.JAVA_BYTE, 3, e.getValue().blocks().length);
                TypeKernels k = TypeKernels.of(t);
                float[] got = new float[want.length + 5];
                k.dequantize(seg, 3, got, 5, want.length);
                for (int i = 0; i < want.length; i++) {
                    assertEquals(Float.floatToRawIntBits(want[i]), Float.floatToRawIntBits(k.get(seg, 3, i)),
                            t + " get(" + i + ") = " + k.get(seg, 3, i) + ", numpy " + want[i]);
                    assertEquals(Float.floatToRawIntBits(want[i]), Float.floatToRawIntBits(got[5 + i]),
                            t + " dequantize[" + i + "] = " + got[5 + i] + ", numpy " + want[i]);
                }
                // A row of several blocks dequantised from its middle (offset of block 1) agrees too.
                int from = t.blockSize, n = want.length - 2 * t.blockSize;
                k.dequantize(seg, 3 + t.blockBytes, got, 0, n);
                for (int i = 0; i < n; i++) assertEquals(want[from + i], got[i], t + " from block 1, value " + i);
            }
        }
    }

    /** Random bytes as blocks (every bit pattern of quants and sub-block scales) with random finite f16 scales. */
    static MemorySegment randomBlocks(DType t, Random r, Arena arena, int rows, int cols, int pad) {
        long rowBytes = t.bytesFor(cols);
        MemorySegment seg = arena.allocate(pad + rows * rowBytes);
        for (long i = 0; i < seg.byteSize(); i++) seg.set(ValueLayout.JAVA_BYTE, i, (byte) r.nextInt());
        for (long blk = pad; blk < seg.byteSize(); blk += t.blockBytes) {
            for (int f : f16Fields(t)) {
                float v = (r.nextBoolean() ? 1 : -1) * (float) Math.scalb(r.nextFloat(), -r.nextInt(12));
                seg.set(LittleEndian.SHORT, blk + f, Float.floatToFloat16(r.nextInt(10) == 0 ? 0 : v));
            }
        }
        return seg;
    }

    @Test
    void decodeDotMatchesTheScalarReader() {
        Random r = new Random(31);
        try (Arena arena = Arena.ofConfined()) {
            for (DType t : TYPES) {
                for (int cols : t.blockSize == 256 ? new int[]{256, 768, 2304} : new int[]{32, 96, 288, 1056}) {
                    int rowCount = 5, pad = 7;
                    MemorySegment seg = randomBlocks(t, r, arena, rowCount, cols, pad);
                    float[] x = randoms(r, cols + 3), row = new float[cols];
                    for (int i = 0; i < rowCount; i++) {
                        long off = pad + i * t.bytesFor(cols);
                        ScalarKernels.dequantize(t, seg, off, row, 0, cols);
                        assertClose(ScalarKernels.dot(t, seg, off, x, 3, cols), Dequant.dot(t, seg, off, x, 3, cols),
                                bound(row, x, 3), t + " dot cols=" + cols + " row " + i);
                    }
                }
            }
        }
    }

    @Test
    void prefillMatmulMatchesTheScalarReader() {
        Random r = new Random(32);
        try (Arena arena = Arena.ofShared()) {
            for (int threads : new int[]{1, 3}) {
                Parallel.setThreads(threads);
                for (DType t : TYPES) {
                    int cols = t.blockSize == 256 ? 512 : 160;
                    for (int rowCount : new int[]{1, 7, 37}) {
                        MemorySegment seg = randomBlocks(t, r, arena, rowCount, cols, 0);
                        Matrix m = new Matrix("w", t, seg, 0, rowCount, cols);
                        for (int n : new int[]{1, 3, 9}) {
                            float[] x = randoms(r, n * cols), got = new float[n * rowCount], row = new float[cols];
                            m.matmul(x, n, got);
                            for (int row_ = 0; row_ < rowCount; row_++) {
                                ScalarKernels.dequantize(t, seg, row_ * m.rowBytes(), row, 0, cols);
                                for (int tok = 0; tok < n; tok++) {
                                    double want = ScalarKernels.dot(t, seg, row_ * m.rowBytes(), x, tok * cols, cols);
                                    assertClose(want, got[tok * rowCount + row_], 4 * bound(row, x, tok * cols),
                                            t + " rows=" + rowCount + " n=" + n + " threads=" + threads + " at " + tok + "," + row_);
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    @Test
    void compiledKernelsDoNotAllocate() throws Exception {
        // Boxed vectors (C2 failing to intrinsify or inline a Vector API call) show as allocation: correct results,
        // many times slower. In a JVM of its own, as KQuantsTest checks Q4_K and Q6_K.
        var jvmArgs = java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments();
        org.junit.jupiter.api.Assumptions.assumeFalse(jvmArgs.stream().anyMatch(a -> a.startsWith("-XX:TieredStopAtLevel") || a.equals("-Xint")),
                "needs C2");
        String javaCommand = ProcessHandle.current().info().command().orElseThrow();
        Process p = new ProcessBuilder(javaCommand, "--add-modules", "jdk.incubator.vector", "-cp", System.getProperty("java.class.path"),
                AllocationCheck.class.getName()).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(120, java.util.concurrent.TimeUnit.SECONDS), "allocation check did not finish");
        assertEquals(0, p.exitValue(), output);
    }

    /** Exits 1 naming the first type whose compiled dot or dequantise kernel still allocates. */
    static final class AllocationCheck {
        public static void main(String[] args) {
            var threads = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
            Random r = new Random(34);
            int cols = 512;
            float sink = 0;
            try (Arena arena = Arena.ofConfined()) {
                for (DType t : TYPES) {
                    MemorySegment seg = randomBlocks(t, r, arena, 1, cols, 0);
                    float[] x = randoms(r, cols), tile = new float[cols];
                    long used = Long.MAX_VALUE;
                    for (int round = 0; round < 40 && used > 8_192; round++) {
                        long before = threads.getCurrentThreadAllocatedBytes();
                        for (int i = 0; i < 1000; i++) {
                            sink += Dequant.dot(t, seg, 0, x, 0, cols);
                            Dequant.dequantize(t, seg, 0, tile, 0, cols);
                        }
                        used = threads.getCurrentThreadAllocatedBytes() - before;
                    }
                    if (used > 8_192 || Float.isNaN(sink)) {
                        System.out.println(t + ": 1000 compiled dot + dequantize calls allocate " + used + " bytes (boxed vectors?)");
                        System.exit(1);
                    }
                }
            }
        }
    }

    @Test
    void encodersRoundTripWithinTheirGrid() {
        Random r = new Random(33);
        float[] x = randoms(r, 256 * 8);
        for (DType t : new DType[]{DType.Q4_1, DType.Q5_0, DType.Q5_1, DType.Q5_K}) {
            byte[] q = Quantize.encode(t, x);
            float[] y = new float[x.length];
            Dequant.dequantize(t, MemorySegment.ofArray(q), 0, y, 0, x.length);
            double err = 0, sum = 0;
            for (int i = 0; i < x.length; i++) {
                err += (x[i] - y[i]) * (x[i] - y[i]);
                sum += x[i] * x[i];
            }
            double rel = Math.sqrt(err / sum);
            // 4 bits over a block's range: ~7 % RMS for Gaussian values; 5 bits about half that.
            double limit = t == DType.Q4_1 ? 0.10 : 0.06;
            assertTrue(rel < limit && rel > 0, t + " relative RMS error " + rel);
        }
    }

    @Test
    void legacyEncodersRoundLikeGgmlsReference() {
        // One block whose values sit on the grid: each must come back exactly (to f16 precision of d and m).
        float[] x = new float[32];
        for (int i = 0; i < 32; i++) x[i] = 0.5f * ((i * 7) % 16) - 2;   // Q4_1 grid: d = 0.5, m = -2
        float[] y = new float[32];
        Dequant.dequantize(DType.Q4_1, MemorySegment.ofArray(Quantize.encode(DType.Q4_1, x)), 0, y, 0, 32);
        assertArrayEquals(x, y, "Q4_1");
        for (int i = 0; i < 32; i++) x[i] = 0.25f * (((i * 5) % 32) - 16);   // Q5_0: d = -max/16 with max = -4
        Dequant.dequantize(DType.Q5_0, MemorySegment.ofArray(Quantize.encode(DType.Q5_0, x)), 0, y, 0, 32);
        assertArrayEquals(x, y, "Q5_0");
        for (int i = 0; i < 32; i++) x[i] = 0.125f * ((i * 3) % 32) + 1;   // Q5_1: d = 0.125, m = 1
        Dequant.dequantize(DType.Q5_1, MemorySegment.ofArray(Quantize.encode(DType.Q5_1, x)), 0, y, 0, 32);
        assertArrayEquals(x, y, "Q5_1");
    }
}
