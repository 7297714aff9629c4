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

class PackedQ8Test {

    /** A random Q8_0 matrix and its packed copy. */
    record Pair(MemorySegment q8, MemorySegment packed, int rows, int cols) {
        /** Weights of about {@code magnitude}; below 1e-4 the f16 scales are subnormal. */
        static Pair random(Arena arena, int rows, int cols, long seed, double magnitude) {
            SplittableRandom r = new SplittableRandom(seed);
            float[] w = new float[rows * cols];
            for (int i = 0; i < w.length; i++) w[i] = (float) (r.nextGaussian() * (1 + i % 7) * magnitude);
            MemorySegment q8 = arena.allocate(DType.Q8_0.bytesFor(w.length));
            Quantize.encode(DType.Q8_0, w, 0, w.length, q8, 0);
            MemorySegment packed = arena.allocate(q8.byteSize());
            for (int p = 0; p < rows / PackedQ4.PANEL; p++) PackedQ8.packPanel(q8, packed, cols, p);
            return new Pair(q8, packed, rows, cols);
        }

        float dot(float[] x, int xOff, int r) {
            return ScalarKernels.dot(DType.Q8_0, q8, r * DType.Q8_0.bytesFor(cols), x, xOff, cols);
        }
    }

    @ParameterizedTest
    @CsvSource({"16,32", "32,64", "48,96", "16,2048"})
    void packingKeepsEveryWeight(int rows, int cols) {
        try (Arena arena = Arena.ofShared()) {
            Pair m = Pair.random(arena, rows, cols, rows * 31L + cols, 1);
            long rowBytes = DType.Q8_0.bytesFor(cols);
            float[] row = new float[cols];
            for (int r = 0; r < rows; r++) {
                PackedQ8.row(m.packed, 0, cols, r, row, 0);
                for (int c = 0; c < cols; c++)
                    assertEquals(ScalarKernels.get(DType.Q8_0, m.q8, r * rowBytes, c), row[c], 0f, "row " + r + " col " + c);
            }
        }
    }

    @ParameterizedTest
    @CsvSource({"16,32,1,1", "32,64,1,1", "48,96,1,1", "64,1024,1,1", "32,64,2,1", "48,96,3,1", "16,64,5,1",
            "32,256,1,1e-6", "16,64,1,3e3"})
    void kernelMatchesTheScalarDotProduct(int rows, int cols, int tokens, double magnitude) {
        try (Arena arena = Arena.ofShared()) {
            Pair m = Pair.random(arena, rows, cols, 7L * rows + cols + tokens, magnitude);
            float[] x = PackedQ4Test.randomX(tokens * cols + 3, tokens);
            PackedQ8.Activations a = new PackedQ8.Activations().prepare(x, 3, tokens, cols);
            float[] out = new float[tokens * rows];
            PackedQ8.rows(m.packed, 0, cols, 0, rows, a, out, 0, rows);
            for (int t = 0; t < tokens; t++) {
                for (int r = 0; r < rows; r++) {
                    float want = PackedQ8.reference(m.packed, 0, cols, r, a, t);
                    // Float sums in another order, of (q + 128)·x with 128·Σx taken off per block: the error scales
                    // with Σ d·(|q| + 128)·|x|, not with the result.
                    double mag = 0;
                    for (int c = 0; c < cols; c++)
                        mag += (Math.abs(PackedQ8.get(m.packed, 0, cols, r, c)) + 128 * Math.abs(PackedQ8.scale(m.packed, 0, cols, r, c))) * Math.abs(x[3 + t * cols + c]);
                    assertEquals(want, out[t * rows + r], mag * 4e-7 + 1e-30, "token " + t + " row " + r);
                    assertEquals(m.dot(x, 3 + t * cols, r), want, mag * 4e-7 + 1e-30, "reference vs file layout, row " + r);
                }
            }
        }
    }

    @Test
    void activationsArePrescaledExactlyWithBlockSums() {
        int cols = 96, tokens = 2;
        float[] x = PackedQ4Test.randomX(tokens * cols + 1, 17);
        PackedQ8.Activations a = new PackedQ8.Activations().prepare(x, 1, tokens, cols);
        for (int t = 0; t < tokens; t++) {
            for (int c = 0; c < cols; c++) {
                float v = x[1 + t * cols + c], scale = c % 4 == 1 ? 0x1p-8f : c % 4 == 2 ? 0x1p-16f : 1f;
                assertEquals(v * scale, a.scaled[t * cols + c], 0f, "token " + t + " col " + c);
            }
            for (int b = 0; b < cols / 32; b++) {
                double sum = 0;
                for (int i = 0; i < 32; i++) sum += x[1 + t * cols + 32 * b + i];
                assertEquals(128 * sum, a.offset[t * (cols / 32) + b], 1e-3);
            }
        }
    }

    @ParameterizedTest
    @CsvSource({"16,32,2", "32,64,8", "48,96,9", "32,1024,17", "16,64,3"})
    void severalTokensMatchTheFileLayoutsDot(int rows, int cols, int tokens) {
        try (Arena arena = Arena.ofShared()) {
            Pair m = Pair.random(arena, rows, cols, 5L * rows + cols + tokens, 1);
            float[] x = PackedQ4Test.randomX(tokens * cols + 5, tokens);
            float[] out = new float[tokens * (rows + 1)];
            PanelGemm.rows(DType.Q8_0_R16, m.packed, 0, cols, 0, rows, x, 5, tokens, out, 1, rows + 1);
            for (int t = 0; t < tokens; t++)
                for (int r = 0; r < rows; r++) {
                    float want = m.dot(x, 5 + t * cols, r);
                    assertEquals(want, out[1 + t * (rows + 1) + r], 1e-5f * (1 + Math.abs(want)) * (float) Math.sqrt(cols), "token " + t + " row " + r);
                }
        }
    }

    @Test
    void partialPanelsAndOffsetsWriteOnlyTheirRows() {
        int rows = 48, cols = 64;
        try (Arena arena = Arena.ofShared()) {
            Pair m = Pair.random(arena, rows, cols, 3, 1);
            float[] x = PackedQ4Test.randomX(2 * cols, 1);
            PackedQ8.Activations a = new PackedQ8.Activations().prepare(x, 0, 2, cols);
            float[] out = new float[2 * rows];
            Arrays.fill(out, Float.NaN);
            PackedQ8.rows(m.packed, 0, cols, 16, 37, a, out, 0, rows);   // rows 16..36: one whole panel, 5 of the next
            for (int t = 0; t < 2; t++) {
                for (int r = 0; r < rows; r++) {
                    float v = out[t * rows + r];
                    if (r < 16 || r >= 37) assertTrue(Float.isNaN(v), "row " + r + " written");
                    else assertEquals(PackedQ8.reference(m.packed, 0, cols, r, a, t), v, 1e-3f);
                }
            }
            assertThrows(IllegalArgumentException.class, () -> PackedQ8.rows(m.packed, 0, cols, 8, 16, a, out, 0, rows));
        }
    }

    @Test
    void matmulJobAndMatrixViewsUseThePackedKernel() {
        int rows = 64, cols = 256;
        try (Arena arena = Arena.ofShared()) {
            Pair m = Pair.random(arena, rows, cols, 11, 1);
            Matrix packed = new Matrix("w", DType.Q8_0_R16, m.packed, 0, rows, cols);
            float[] x = PackedQ4Test.randomX(3 * cols, 2);
            float[] one = new float[rows];
            packed.matvec(x, 0, one, 0);   // a decode step
            for (int r = 0; r < rows; r++) assertEquals(m.dot(x, 0, r), one[r], 2e-3f * (1 + Math.abs(one[r])));
            float[] three = new float[3 * rows];
            packed.matmul(x, 3, three);    // prefill
            for (int t = 0; t < 3; t++)
                for (int r = 0; r < rows; r++) {
                    float want = m.dot(x, t * cols, r);
                    assertEquals(want, three[t * rows + r], 1e-4f * (1 + Math.abs(want)));
                }
            // The lower half as a view of its own (a fused gate/up tensor's up half), and a row read back.
            Matrix lower = packed.rowRange(32, 32);
            float[] got = new float[32];
            lower.matvec(x, 0, got, 0);
            for (int r = 0; r < 32; r++) assertEquals(one[32 + r], got[r], 0f);
            float[] row = new float[cols];
            lower.row(5, row, 0);
            for (int c = 0; c < cols; c++) assertEquals(PackedQ8.get(m.packed, 0, cols, 37, c), row[c], 0f);
            assertThrows(IllegalArgumentException.class, () -> packed.rowRange(8, 16));
        }
    }
}
