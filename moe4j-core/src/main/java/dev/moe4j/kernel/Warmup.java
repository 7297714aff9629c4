package dev.moe4j.kernel;

import dev.moe4j.tensor.DType;
import dev.moe4j.tensor.Tensor;
import dev.moe4j.tensor.TensorStore;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * Runs every kernel a model will use, on a few rows of its own weights, until the JIT has compiled it.
 * Vector API code is only fast once C2 compiles it with intrinsics; before that each vector operation
 * allocates, and a first prompt on a cold JVM ran ~6× slower than this (16 tokens of olmoe-1b-7b Q8_0:
 * 10.4 s, 1.6 s after warming). The model's own memory-mapped tensors are used, not copies, because the
 * JIT specialises the loads on the kind of memory segment it has seen.
 */
public final class Warmup {
    private static final int ROWS = 8, TOKENS = 7, CALLS = 12_000;
    private static final Set<DType> DONE = EnumSet.noneOf(DType.class);

    private Warmup() {}

    /** Compiles the matmul, dot and dequantisation kernels for the weight types in this store; once per JVM and type. */
    public static void run(TensorStore store) {
        List<Tensor> all = new ArrayList<>();
        for (String name : store.names()) all.add(store.find(name).orElseThrow());
        run(all);
    }

    /** As {@link #run(TensorStore)}, over the tensors a model actually reads (some repacked in memory). */
    public static synchronized void run(List<Tensor> tensors) {
        SplittableRandom r = new SplittableRandom(1);
        boolean first = DONE.isEmpty();
        for (Tensor t : tensors) {
            DType dt = t.dtype();
            if (t.rank() < 2 || t.dim(-2) < ROWS || !TypeKernels.of(dt).isWeightType() || DONE.contains(dt)) continue;
            DONE.add(dt);
            int cols = (int) t.dim(-1);
            long rowBytes = dt.bytesFor(cols);
            // Packed rows come in panels of 16: two whole ones, and the same with a partial last panel.
            int maxRows = dt.isPacked() ? (int) Math.min(2 * PackedQ4.PANEL, t.dim(-2)) : ROWS;
            float[] x = new float[(TOKENS + 1) * cols], out = new float[(TOKENS + 1) * maxRows], row = new float[cols];
            for (int i = 0; i < x.length; i++) x[i] = (float) r.nextDouble(-1, 1);
            // Each packed call covers 4x the rows, so its kernels reach the compile thresholds in fewer calls.
            int calls = dt.isPacked() ? CALLS / 4 : CALLS;
            for (int i = 0; i < calls; i++) {
                // Whole and partial tiles alike (bins and prompts come in every size): code the JIT compiled
                // having seen only whole tiles would be thrown away at the first partial one.
                int tokens = 2 + i % TOKENS, rows = maxRows - i % 4;   // 2..8 tokens, whole and partial row blocks
                Gemm.rows(dt, t.data(), 0, rowBytes, cols, 0, rows, x, 0, tokens, out, 0, maxRows);  // prefill tiles
                Gemm.rows(dt, t.data(), 0, rowBytes, cols, 0, rows, x, 0, 1, out, 0, maxRows);       // decode dots
                if (i % 8 == 0 && !dt.isPacked()) TypeKernels.of(dt).dequantize(t.data(), 0, row, 0, cols);  // embedding rows
            }
        }
        if (!first) return;
        float[] a = new float[256], b = new float[256];
        for (int i = 0; i < a.length; i++) a[i] = (float) r.nextDouble(-1, 1);
        float[] g = new float[256];
        for (int i = 0; i < CALLS * 4; i++) {
            VectorOps.axpy(0.5f, a, 0, b, 0, a.length);
            b[0] = VectorOps.dot(a, 0, b, 0, a.length) * 1e-3f;
            if (i % 4 == 0) {
                System.arraycopy(a, 0, g, 0, g.length);
                VectorOps.siluMul(g, b, g.length);
            }
        }
    }
}
