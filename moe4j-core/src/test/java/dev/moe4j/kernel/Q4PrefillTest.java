package dev.moe4j.kernel;

import dev.moe4j.tensor.DType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.lang.foreign.Arena;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class Q4PrefillTest {

    @ParameterizedTest
    @CsvSource({"16,32,2,1", "32,64,8,1", "48,96,9,1", "32,1024,17,1", "16,64,3,1", "64,256,16,1", "32,128,5,1e-6", "16,64,7,3e3"})
    void kernelMatchesTheScalarReferenceOnQuantisedActivations(int rows, int cols, int tokens, double magnitude) {
        assumeTrue(Q4Prefill.SUPPORTED, "Q4Prefill needs 16-lane float vectors (AVX-512); this JVM has " + Species.L);
        try (Arena arena = Arena.ofShared()) {
            PackedQ4Test.Pair m = PackedQ4Test.Pair.random(arena, rows, cols, 13L * rows + cols + tokens, magnitude);
            float[] x = PackedQ4Test.randomX(tokens * cols + 4, tokens);
            Q4Prefill.Quantized xq = new Q4Prefill.Quantized().of(x, 4, tokens, cols);
            float[] out = new float[tokens * (rows + 2)];
            Arrays.fill(out, Float.NaN);
            Q4Prefill.rows(m.packed(), 0, cols, 0, rows, xq, out, 1, rows + 2);
            PackedQ4.Activations a = new PackedQ4.Activations().quantize(x, 4, tokens, cols);
            for (int t = 0; t < tokens; t++) {
                assertTrue(Float.isNaN(out[t * (rows + 2)]), "token " + t + ": wrote before its rows");
                for (int r = 0; r < rows; r++) {
                    float want = PackedQ4.reference(m.packed(), 0, cols, r, a, t);   // same operations, same order
                    assertEquals(want, out[1 + t * (rows + 2) + r], Math.abs(want) * 1e-6f + 1e-30f, "token " + t + " row " + r);
                }
            }
        }
    }

    @Test
    void partialPanelsWriteOnlyTheirRows() {
        assumeTrue(Q4Prefill.SUPPORTED, "Q4Prefill needs 16-lane float vectors (AVX-512); this JVM has " + Species.L);
        int rows = 48, cols = 64, tokens = 10;
        try (Arena arena = Arena.ofShared()) {
            PackedQ4Test.Pair m = PackedQ4Test.Pair.random(arena, rows, cols, 3);
            float[] x = PackedQ4Test.randomX(tokens * cols, 1);
            Q4Prefill.Quantized xq = new Q4Prefill.Quantized().of(x, 0, tokens, cols);
            PackedQ4.Activations a = new PackedQ4.Activations().quantize(x, 0, tokens, cols);
            float[] out = new float[tokens * rows];
            Arrays.fill(out, Float.NaN);
            Q4Prefill.rows(m.packed(), 0, cols, 16, 37, xq, out, 0, rows);   // one whole panel, 5 rows of the next
            for (int t = 0; t < tokens; t++)
                for (int r = 0; r < rows; r++) {
                    float v = out[t * rows + r];
                    if (r < 16 || r >= 37) assertTrue(Float.isNaN(v), "row " + r + " written");
                    else assertEquals(PackedQ4.reference(m.packed(), 0, cols, r, a, t), v, 1e-4f);
                }
            assertThrows(IllegalArgumentException.class, () -> Q4Prefill.rows(m.packed(), 0, cols, 8, 16, xq, out, 0, rows));
            assertThrows(IllegalArgumentException.class, () -> Q4Prefill.rows(m.packed(), 0, 2 * cols, 0, 16, xq, out, 0, rows));
        }
    }

    @Test
    void dispatchesPrepareActivationsOnThePoolAndShareThemBetweenParts() {
        // Gate and up of an expert read the same x: one preparation, filled 8 tokens per pool chunk.
        int rows = 64, cols = 256, tokens = 21;
        int before = Parallel.threads();
        Parallel.setThreads(3);
        try (Arena arena = Arena.ofShared()) {
            PackedQ4Test.Pair g = PackedQ4Test.Pair.random(arena, rows, cols, 5), u = PackedQ4Test.Pair.random(arena, rows, cols, 6);
            Matrix gate = new Matrix("gate", DType.Q4_0_R16, g.packed(), 0, rows, cols), up = new Matrix("up", DType.Q4_0_R16, u.packed(), 0, rows, cols);
            float[] x = PackedQ4Test.randomX(tokens * cols, 7), og = new float[tokens * rows], ou = new float[tokens * rows];
            MatmulJob.get().add(gate, x, 0, og, 0).add(up, x, 0, ou, 0).execute(tokens);
            float[] wantG = new float[tokens * rows], wantU = new float[tokens * rows];
            Gemm.rows(DType.Q4_0_R16, g.packed(), 0, gate.rowBytes(), cols, 0, rows, x, 0, tokens, wantG, 0, rows);
            Gemm.rows(DType.Q4_0_R16, u.packed(), 0, up.rowBytes(), cols, 0, rows, x, 0, tokens, wantU, 0, rows);
            for (int i = 0; i < og.length; i++) {
                assertEquals(wantG[i], og[i], 0f, "gate " + i);
                assertEquals(wantU[i], ou[i], 0f, "up " + i);
            }
        } finally {
            Parallel.setThreads(before);
        }
    }

    @Test
    void eightBitActivationsStayCloseToTheFloatProduct() {
        assumeTrue(Q4Prefill.SUPPORTED, "Q4Prefill needs 16-lane float vectors (AVX-512); this JVM has " + Species.L);
        int rows = 64, cols = 2048, tokens = 12;
        try (Arena arena = Arena.ofShared()) {
            PackedQ4Test.Pair m = PackedQ4Test.Pair.random(arena, rows, cols, 99);
            float[] x = PackedQ4Test.randomX(tokens * cols, 5), out = new float[tokens * rows];
            Q4Prefill.rows(m.packed(), 0, cols, 0, rows, new Q4Prefill.Quantized().of(x, 0, tokens, cols), out, 0, rows);
            long rowBytes = DType.Q4_0.bytesFor(cols);
            double err = 0, norm = 0;
            for (int t = 0; t < tokens; t++)
                for (int r = 0; r < rows; r++) {
                    double exact = ScalarKernels.dot(DType.Q4_0, m.q4(), r * rowBytes, x, t * cols, cols);
                    err += (out[t * rows + r] - exact) * (out[t * rows + r] - exact);
                    norm += exact * exact;
                }
            assertTrue(Math.sqrt(err / norm) < 0.01, "relative error " + Math.sqrt(err / norm));
        }
    }
}
