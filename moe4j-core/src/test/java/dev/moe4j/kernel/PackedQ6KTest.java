package dev.moe4j.kernel;

import dev.moe4j.tensor.DType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PackedQ6KTest {

    /** A Q6_K matrix and its packed copy. */
    record Pair(MemorySegment q6k, MemorySegment packed, int rows, int cols) {
        static Pair of(Arena arena, float[] w, int rows, int cols) {
            MemorySegment q6k = arena.allocate(DType.Q6_K.bytesFor(w.length));
            Quantize.encode(DType.Q6_K, w, 0, w.length, q6k, 0);
            MemorySegment packed = arena.allocate(DType.Q6_K_R16.bytesFor(w.length));
            for (int p = 0; p < rows / PackedQ4.PANEL; p++) PackedQ6K.packPanel(q6k, packed, cols, p);
            return new Pair(q6k, packed, rows, cols);
        }

        /** Weights of about {@code magnitude}, each sub-block of its own spread and offset (so scales and mins vary). */
        static Pair random(Arena arena, int rows, int cols, long seed, double magnitude) {
            SplittableRandom r = new SplittableRandom(seed);
            float[] w = new float[rows * cols];
            for (int i = 0; i < w.length; i++) w[i] = (float) ((r.nextGaussian() + (i / 32 % 5) * 0.3) * (1 + i / 32 % 7) * magnitude);
            return of(arena, w, rows, cols);
        }
    }

    @ParameterizedTest
    @CsvSource({"16,256", "32,512", "48,1024"})
    void packingKeepsEveryWeight(int rows, int cols) {
        try (Arena arena = Arena.ofShared()) {
            Pair m = Pair.random(arena, rows, cols, rows * 31L + cols, 1);
            long rowBytes = DType.Q6_K.bytesFor(cols);
            float[] row = new float[cols];
            for (int r = 0; r < rows; r++) {
                TypeKernels.of(DType.Q6_K_R16).row(m.packed, 0, cols, r, row, 0);
                for (int c = 0; c < cols; c++)
                    assertEquals(ScalarKernels.get(DType.Q6_K, m.q6k, r * rowBytes, c), row[c], 0f, "row " + r + " col " + c);
            }
        }
    }

    @ParameterizedTest
    @CsvSource({"16,256,1,1", "32,512,1,1", "48,768,1,1", "64,2048,1,1", "32,256,2,1", "16,512,3,1", "32,256,1,1e-6", "16,256,1,3e3"})
    void kernelMatchesScalarReferenceOnQuantisedActivations(int rows, int cols, int tokens, double magnitude) {
        try (Arena arena = Arena.ofShared()) {
            Pair m = Pair.random(arena, rows, cols, 7L * rows + cols + tokens, magnitude);
            float[] x = PackedQ4Test.randomX(tokens * cols + 3, tokens);
            PackedQ4K.Activations a = new PackedQ4K.Activations().quantize(x, 3, tokens, cols);
            float[] out = new float[tokens * rows];
            PackedQ6K.rows(m.packed, 0, cols, 0, rows, a, out, 0, rows);
            for (int t = 0; t < tokens; t++)
                for (int r = 0; r < rows; r++) {
                    float want = PackedQ6K.reference(m.packed, 0, cols, r, a, t);
                    assertEquals(want, out[t * rows + r], Math.abs(want) * 1e-6f + 1e-30f, "token " + t + " row " + r);
                }
        }
    }

    /** Every q − 32 = −32 against every activation ±127: the largest 16-bit lane sums, which must not wrap. */
    @Test
    void extremeWeightsAndActivationsStayExact() {
        int rows = 16, cols = 512;
        try (Arena arena = Arena.ofShared()) {
            float[] w = new float[rows * cols];
            Arrays.fill(w, 1f);   // the largest magnitude maps to q − 32 = −32 (a negative scale)
            Pair m = Pair.of(arena, w, rows, cols);
            for (float sign : new float[] {1, -1}) {
                float[] x = new float[cols];
                Arrays.fill(x, sign * 2.5f);
                PackedQ4K.Activations a = new PackedQ4K.Activations().quantize(x, 0, 1, cols);
                assertEquals((int) sign * 127, a.q(0, 5));
                float[] out = new float[rows];
                PackedQ6K.rows(m.packed, 0, cols, 0, rows, a, out, 0, rows);
                for (int r = 0; r < rows; r++) {
                    assertEquals(PackedQ6K.reference(m.packed, 0, cols, r, a, 0), out[r], 1e-3f);
                    assertEquals(sign * 2.5f * cols, out[r], 2.5f * cols * 0.01f, "row " + r);
                }
            }
        }
    }

    @Test
    void kernelIsCloseToTheFloatDotProduct() {
        int rows = 64, cols = 2048;
        try (Arena arena = Arena.ofShared()) {
            Pair m = Pair.random(arena, rows, cols, 99, 1);
            float[] x = PackedQ4Test.randomX(cols, 5);
            float[] out = new float[rows];
            PackedQ6K.rows(m.packed, 0, cols, 0, rows, new PackedQ4K.Activations().quantize(x, 0, 1, cols), out, 0, rows);
            long rowBytes = DType.Q6_K.bytesFor(cols);
            double err = 0, norm = 0;
            for (int r = 0; r < rows; r++) {
                double exact = ScalarKernels.dot(DType.Q6_K, m.q6k, r * rowBytes, x, 0, cols);
                err += (out[r] - exact) * (out[r] - exact);
                norm += exact * exact;
            }
            // 8-bit activations with one scale per 256 values (llama.cpp's q8_K) cost about 1 % relative error here.
            assertTrue(Math.sqrt(err / norm) < 0.02, "relative error " + Math.sqrt(err / norm));
        }
    }

    @ParameterizedTest
    @CsvSource({"16,256,2", "32,512,8", "48,256,9", "32,1024,17"})
    void severalTokensUseFloatActivationsAndMatchTheFloatDot(int rows, int cols, int tokens) {
        try (Arena arena = Arena.ofShared()) {
            Pair m = Pair.random(arena, rows, cols, 5L * rows + cols + tokens, 1);
            float[] x = PackedQ4Test.randomX(tokens * cols + 5, tokens);
            float[] out = new float[tokens * (rows + 1)];
            PanelGemm.rows(DType.Q6_K_R16, m.packed, 0, cols, 0, rows, x, 5, tokens, out, 1, rows + 1);
            long rowBytes = DType.Q6_K.bytesFor(cols);
            for (int t = 0; t < tokens; t++)
                for (int r = 0; r < rows; r++) {
                    float want = ScalarKernels.dot(DType.Q6_K, m.q6k, r * rowBytes, x, 5 + t * cols, cols);
                    assertEquals(want, out[1 + t * (rows + 1) + r], 1e-5f * (1 + Math.abs(want)) * (float) Math.sqrt(cols), "token " + t + " row " + r);
                }
        }
    }

    @Test
    void partialPanelsAndViewsWriteOnlyTheirRows() {
        int rows = 48, cols = 256;
        try (Arena arena = Arena.ofShared()) {
            Pair m = Pair.random(arena, rows, cols, 3, 1);
            float[] x = PackedQ4Test.randomX(2 * cols, 1);
            PackedQ4K.Activations a = new PackedQ4K.Activations().quantize(x, 0, 2, cols);
            float[] out = new float[2 * rows];
            Arrays.fill(out, Float.NaN);
            PackedQ6K.rows(m.packed, 0, cols, 16, 37, a, out, 0, rows);   // one whole panel, 5 rows of the next
            for (int t = 0; t < 2; t++)
                for (int r = 0; r < rows; r++) {
                    float v = out[t * rows + r];
                    if (r < 16 || r >= 37) assertTrue(Float.isNaN(v), "row " + r + " written");
                    else assertEquals(PackedQ6K.reference(m.packed, 0, cols, r, a, t), v, 1e-4f);
                }
            assertThrows(IllegalArgumentException.class, () -> PackedQ6K.rows(m.packed, 0, cols, 8, 16, a, out, 0, rows));

            // Through Matrix and MatmulJob, as inference calls it: one token on 8-bit activations, several on floats.
            Matrix packed = new Matrix("w", DType.Q6_K_R16, m.packed, 0, rows, cols);
            Matrix lower = packed.rowRange(32, 16);
            float[] one = new float[16];
            lower.matvec(x, 0, one, 0);
            PackedQ4K.Activations a1 = new PackedQ4K.Activations().quantize(x, 0, 1, cols);
            for (int r = 0; r < 16; r++) assertEquals(PackedQ6K.reference(m.packed, 0, cols, 32 + r, a1, 0), one[r], 1e-4f);
            float[] two = new float[2 * rows];
            packed.matmul(x, 2, two);
            long rowBytes = DType.Q6_K.bytesFor(cols);
            for (int t = 0; t < 2; t++)
                for (int r = 0; r < rows; r++) {
                    float want = ScalarKernels.dot(DType.Q6_K, m.q6k, r * rowBytes, x, t * cols, cols);
                    assertEquals(want, two[t * rows + r], 1e-4f * (1 + Math.abs(want)));
                }
        }
    }
}
