package dev.moe4j.kernel;

import dev.moe4j.tensor.DType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.util.Random;

import static dev.moe4j.kernel.DequantTest.randoms;
import static dev.moe4j.kernel.DequantTest.rows;
import static org.junit.jupiter.api.Assertions.*;

/** Matrix × vector and matrix × matrix on every dtype, odd row and token counts, one and several threads. */
class GemmTest {
    static final DType[] ALL = {DType.F32, DType.F16, DType.BF16, DType.Q8_0, DType.Q4_0, DType.Q4_K, DType.Q6_K};

    @AfterEach
    void restoreThreads() {
        Parallel.setThreads(Runtime.getRuntime().availableProcessors());
    }

    @Test
    void matmulMatchesScalarOnEveryDtype() {
        Random r = new Random(21);
        for (int threads : new int[]{1, 3}) {
            Parallel.setThreads(threads);
            for (DType t : ALL) {
                int cols = t.blockSize == 256 ? 512 : t.isQuantized() ? 96 : 67;
                for (int rowCount : new int[]{1, 5, 37, 130}) {
                    MemorySegment seg = rows(t, r, rowCount, cols, 0);
                    Matrix m = new Matrix("w", t, seg, 0, rowCount, cols);
                    for (int n : new int[]{1, 2, 3, 6, 9}) {
                        float[] x = randoms(r, n * cols);
                        float[] got = new float[n * rowCount];
                        m.matmul(x, n, got);
                        for (int tok = 0; tok < n; tok++) {
                            for (int row = 0; row < rowCount; row++) {
                                double want = ScalarKernels.dot(t, seg, row * m.rowBytes(), x, tok * cols, cols);
                                double tol = 1e-5 * (1 + Math.abs(want)) + 1e-5 * cols;
                                assertEquals(want, got[tok * rowCount + row], tol,
                                        t + " rows=" + rowCount + " n=" + n + " threads=" + threads + " at " + tok + "," + row);
                            }
                        }
                    }
                }
            }
        }
    }

    @Test
    void severalPartsInOneDispatch() {
        Random r = new Random(22);
        Parallel.setThreads(2);
        DType t = DType.Q8_0;
        Matrix a = new Matrix("a", t, rows(t, r, 300, 128, 0), 0, 300, 128);
        Matrix b = new Matrix("b", t, rows(t, r, 7, 64, 0), 0, 7, 64);
        float[] xa = randoms(r, 2 * 128 + 3), xb = randoms(r, 2 * 64);
        float[] oa = new float[2 * 300 + 1], ob = new float[2 * 7];
        MatmulJob.get().add(a, xa, 3, oa, 1).add(b, xb, 0, ob, 0).execute(2);
        float[] wa = new float[2 * 300], wb = new float[2 * 7];
        for (int tok = 0; tok < 2; tok++) {
            for (int i = 0; i < 300; i++) wa[tok * 300 + i] = ScalarKernels.dot(t, a.data(), i * a.rowBytes(), xa, 3 + tok * 128, 128);
            for (int i = 0; i < 7; i++) wb[tok * 7 + i] = ScalarKernels.dot(t, b.data(), i * b.rowBytes(), xb, tok * 64, 64);
        }
        for (int i = 0; i < wa.length; i++) assertEquals(wa[i], oa[1 + i], 1e-3, "a " + i);
        assertArrayEquals(wb, ob, 1e-3f);
    }

    @Test
    void failuresInWorkersReachTheCaller() {
        Parallel.setThreads(2);
        assertThrows(IllegalStateException.class, () -> Parallel.run(50, c -> {
            if (c == 37) throw new IllegalStateException("boom");
        }));
        int[] hits = new int[100];
        Parallel.run(100, c -> hits[c]++);
        for (int h : hits) assertEquals(1, h);
    }
    @Test
    void partsWithTheirOwnTokenCountsMatchSeparateDispatches() {
        // A prompt's experts: every part its own bin of tokens (0 included), packed and plain types mixed.
        Random r = new Random(5);
        int cols = 128, rows = 48;
        for (int threads : new int[]{1, 3}) {
            Parallel.setThreads(threads);
            Matrix[] ms = new Matrix[4];
            DType[] types = {DType.Q8_0, DType.F32, DType.Q4_0, DType.Q8_0};
            for (int p = 0; p < ms.length; p++) ms[p] = new Matrix("w" + p, types[p], rows(types[p], r, rows, cols, 0), 0, rows, cols);
            try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofShared()) {
                MemorySegment q4 = arena.allocate(ms[2].byteSize()), q8 = arena.allocate(ms[3].byteSize());
                for (int panel = 0; panel < rows / PackedQ4.PANEL; panel++) {
                    PackedQ4.packPanel(ms[2].data(), q4, cols, panel);
                    PackedQ8.packPanel(ms[3].data(), q8, cols, panel);
                }
                ms[2] = new Matrix("q4", DType.Q4_0_R16, q4, 0, rows, cols);
                ms[3] = new Matrix("q8", DType.Q8_0_R16, q8, 0, rows, cols);
                int[] n = {3, 0, 13, 1};
                float[] x = randoms(r, 20 * cols);
                float[] together = new float[20 * rows], apart = new float[20 * rows];
                MatmulJob job = MatmulJob.get();
                for (int p = 0, at = 0; p < ms.length; at += n[p], p++) job.add(ms[p], x, at * cols, together, at * rows, n[p]);
                job.execute();
                for (int p = 0, at = 0; p < ms.length; at += n[p], p++)
                    if (n[p] > 0) MatmulJob.get().add(ms[p], x, at * cols, apart, at * rows).execute(n[p]);
                assertArrayEquals(apart, together, "threads " + threads);
                // A part added without a count cannot run under execute(); the job is left empty for the next use.
                assertThrows(IllegalStateException.class, () -> MatmulJob.get().add(ms[0], x, 0, apart, 0).execute());
                MatmulJob.get().add(ms[0], x, 0, apart, 0).execute(1);
            }
        }
    }
}
