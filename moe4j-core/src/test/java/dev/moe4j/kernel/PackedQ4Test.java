package dev.moe4j.kernel;

import dev.moe4j.tensor.DType;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PackedQ4Test {

    /** A random Q4_0 matrix and its packed copy. */
    record Pair(MemorySegment q4, MemorySegment packed, int rows, int cols) {
        static Pair random(Arena arena, int rows, int cols, long seed) {
            return random(arena, rows, cols, seed, 1);
        }

        /** Weights of about {@code magnitude}; below 1e-4 the f16 scales are subnormal. */
        static Pair random(Arena arena, int rows, int cols, long seed, double magnitude) {
            SplittableRandom r = new SplittableRandom(seed);
            float[] w = new float[rows * cols];
            for (int i = 0; i < w.length; i++) w[i] = (float) (r.nextGaussian() * (1 + i % 7) * magnitude);
            MemorySegment q4 = arena.allocate(DType.Q4_0.bytesFor(w.length));
            Quantize.encode(DType.Q4_0, w, 0, w.length, q4, 0);
            MemorySegment packed = arena.allocate(q4.byteSize());
            for (int p = 0; p < rows / PackedQ4.PANEL; p++) PackedQ4.packPanel(q4, packed, cols, p);
            return new Pair(q4, packed, rows, cols);
        }
    }

    /** Activations in [-2, 2), every fifth ten times larger (outliers set an 8-bit block's scale). */
    static float[] randomX(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) r.nextDouble(-2, 2) * (i % 5 == 0 ? 10 : 1);
        return x;
    }

    @ParameterizedTest
    @CsvSource({"16,32", "32,64", "48,96", "16,2048", "64,1024"})
    void packingKeepsEveryWeight(int rows, int cols) {
        try (Arena arena = Arena.ofShared()) {
            Pair m = Pair.random(arena, rows, cols, rows * 31L + cols);
            long rowBytes = DType.Q4_0.bytesFor(cols);
            float[] row = new float[cols];
            for (int r = 0; r < rows; r++) {
                PackedQ4.row(m.packed, 0, cols, r, row, 0);
                for (int c = 0; c < cols; c++)
                    assertEquals(ScalarKernels.get(DType.Q4_0, m.q4, r * rowBytes, c), row[c], 0f, "row " + r + " col " + c);
            }
        }
    }

    @ParameterizedTest
    @CsvSource({"16,32,1,1", "32,64,1,1", "48,96,1,1", "64,1024,1,1", "32,64,2,1", "48,96,3,1", "32,128,4,1", "16,64,5,1",
            "32,96,9,1", "32,256,1,1e-6", "16,64,1,3e3"})
    void kernelMatchesScalarReferenceOnQuantisedActivations(int rows, int cols, int tokens, double magnitude) {
        try (Arena arena = Arena.ofShared()) {
            Pair m = Pair.random(arena, rows, cols, 7L * rows + cols + tokens, magnitude);
            float[] x = randomX(tokens * cols + 3, tokens);
            PackedQ4.Activations a = new PackedQ4.Activations().quantize(x, 3, tokens, cols);
            float[] out = new float[tokens * rows];
            PackedQ4.rows(m.packed, 0, cols, 0, rows, a, out, 0, rows);
            for (int t = 0; t < tokens; t++) {
                for (int r = 0; r < rows; r++) {
                    float want = PackedQ4.reference(m.packed, 0, cols, r, a, t);
                    assertEquals(want, out[t * rows + r], Math.abs(want) * 1e-6f + 1e-30f, "token " + t + " row " + r);
                }
            }
        }
    }

    @Test
    void activationsAreRoundedTo8BitsPerBlock() {
        int cols = 96, tokens = 3;
        float[] x = randomX(tokens * cols + 1, 17);
        for (int i = 0; i < 32; i++) x[1 + 32 + i] = 0;          // an all-zero block: scale 0, no NaN
        x[1 + 64] = 1e-30f;                                     // a tiny one
        PackedQ4.Activations a = new PackedQ4.Activations().quantize(x, 1, tokens, cols);
        for (int t = 0; t < tokens; t++) {
            for (int b = 0; b < cols / 32; b++) {
                float d = a.scale[t * (cols / 32) + b];
                int sum = 0;
                float amax = 0;
                for (int i = 0; i < 32; i++) amax = Math.max(amax, Math.abs(x[1 + t * cols + 32 * b + i]));
                assertEquals(amax / 127, d, 0f);
                for (int i = 0; i < 32; i++) {
                    int c = 32 * b + i, q = a.q(t, c);
                    float v = x[1 + t * cols + c];
                    assertTrue(Math.abs(q) <= 127, "q " + q);
                    if (d > 0) assertTrue(Math.abs(v / d - q) <= 0.5001, "value " + v + " scale " + d + " q " + q);
                    else assertEquals(0, q);
                    sum += q;
                }
                assertEquals(sum, a.sum[t * (cols / 32) + b], "block sum");
            }
        }
    }

    @Test
    void kernelIsCloseToTheFloatDotProduct() {
        int rows = 64, cols = 2048;
        try (Arena arena = Arena.ofShared()) {
            Pair m = Pair.random(arena, rows, cols, 99);
            float[] x = randomX(cols, 5);
            float[] out = new float[rows];
            PackedQ4.rows(m.packed, 0, cols, 0, rows, new PackedQ4.Activations().quantize(x, 0, 1, cols), out, 0, rows);
            long rowBytes = DType.Q4_0.bytesFor(cols);
            double err = 0, norm = 0;
            for (int r = 0; r < rows; r++) {
                double exact = ScalarKernels.dot(DType.Q4_0, m.q4, r * rowBytes, x, 0, cols);
                err += (out[r] - exact) * (out[r] - exact);
                norm += exact * exact;
            }
            // 8-bit activations cost about 0.5 % relative error (llama.cpp makes the same trade).
            assertTrue(Math.sqrt(err / norm) < 0.01, "relative error " + Math.sqrt(err / norm));
        }
    }

    @ParameterizedTest
    @CsvSource({"16,32,2", "32,64,8", "48,96,9", "32,1024,17", "16,64,3"})
    void severalTokensUseFloatActivationsAndMatchTheFloatDot(int rows, int cols, int tokens) {
        try (Arena arena = Arena.ofShared()) {
            Pair m = Pair.random(arena, rows, cols, 5L * rows + cols + tokens);
            float[] x = randomX(tokens * cols + 5, tokens);
            float[] out = new float[tokens * (rows + 1)];
            PanelGemm.rows(DType.Q4_0_R16, m.packed, 0, cols, 0, rows, x, 5, tokens, out, 1, rows + 1);
            long rowBytes = DType.Q4_0.bytesFor(cols);
            for (int t = 0; t < tokens; t++)
                for (int r = 0; r < rows; r++) {
                    float want = ScalarKernels.dot(DType.Q4_0, m.q4, r * rowBytes, x, 5 + t * cols, cols);
                    assertEquals(want, out[1 + t * (rows + 1) + r], 1e-5f * (1 + Math.abs(want)) * (float) Math.sqrt(cols), "token " + t + " row " + r);
                }
        }
    }

    @Test
    void partialPanelsAndOffsetsWriteOnlyTheirRows() {
        int rows = 48, cols = 64;
        try (Arena arena = Arena.ofShared()) {
            Pair m = Pair.random(arena, rows, cols, 3);
            float[] x = randomX(2 * cols, 1);
            PackedQ4.Activations a = new PackedQ4.Activations().quantize(x, 0, 2, cols);
            float[] out = new float[2 * rows];
            java.util.Arrays.fill(out, Float.NaN);
            PackedQ4.rows(m.packed, 0, cols, 16, 37, a, out, 0, rows);   // rows 16..36: one whole panel, 5 of the next
            for (int t = 0; t < 2; t++) {
                for (int r = 0; r < rows; r++) {
                    float v = out[t * rows + r];
                    if (r < 16 || r >= 37) assertTrue(Float.isNaN(v), "row " + r + " written");
                    else assertEquals(PackedQ4.reference(m.packed, 0, cols, r, a, t), v, 1e-4f);
                }
            }
            assertThrows(IllegalArgumentException.class, () -> PackedQ4.rows(m.packed, 0, cols, 8, 16, a, out, 0, rows));
        }
    }

    @Test
    void matmulJobAndMatrixViewsUseThePackedKernel() {
        int rows = 64, cols = 256;
        try (Arena arena = Arena.ofShared()) {
            Pair m = Pair.random(arena, rows, cols, 11);
            Matrix packed = new Matrix("w", DType.Q4_0_R16, m.packed, 0, rows, cols);
            float[] x = randomX(3 * cols, 2);
            float[] one = new float[rows];
            packed.matvec(x, 0, one, 0);   // a decode step: 8-bit activations
            PackedQ4.Activations a1 = new PackedQ4.Activations().quantize(x, 0, 1, cols);
            for (int r = 0; r < rows; r++) assertEquals(PackedQ4.reference(m.packed, 0, cols, r, a1, 0), one[r], 1e-4f);
            float[] three = new float[3 * rows];
            packed.matmul(x, 3, three);    // prefill: 8-bit activations too where the vectors are wide enough
            PackedQ4.Activations a3 = new PackedQ4.Activations().quantize(x, 0, 3, cols);
            long rowBytes = DType.Q4_0.bytesFor(cols);
            for (int t = 0; t < 3; t++)
                for (int r = 0; r < rows; r++) {
                    float want = Q4Prefill.SUPPORTED ? PackedQ4.reference(m.packed, 0, cols, r, a3, t)
                            : ScalarKernels.dot(DType.Q4_0, m.q4, r * rowBytes, x, t * cols, cols);
                    assertEquals(want, three[t * rows + r], 1e-4f * (1 + Math.abs(want)));
                }
            // The lower half as a view of its own (a fused gate/up tensor's up half).
            Matrix lower = packed.rowRange(32, 32);
            float[] got = new float[32];
            lower.matvec(x, 0, got, 0);
            PackedQ4.Activations a = new PackedQ4.Activations().quantize(x, 0, 1, cols);
            for (int r = 0; r < 32; r++) assertEquals(PackedQ4.reference(m.packed, 0, cols, 32 + r, a, 0), got[r], 1e-4f);
            assertThrows(IllegalArgumentException.class, () -> packed.rowRange(8, 16));
        }
    }
}
