package dev.moe4j.kernel;

import dev.moe4j.tensor.DType;

import java.lang.foreign.MemorySegment;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * Runs every kernel a model will use on small random data until the JIT has compiled it. Vector API code
 * is only fast once C2 compiles it with intrinsics; before that each vector operation allocates, and a
 * first prompt on a cold JVM ran ~40× slower than a warm one (16 tokens of olmoe-1b-7b: 10 s instead of
 * 0.25 s). A few hundred milliseconds here at load time remove that.
 */
public final class Warmup {
    private static final int COLS = 256, ROWS = 8, TOKENS = 4, CALLS = 12_000;

    private Warmup() {}

    private static final Set<DType> DONE = java.util.EnumSet.noneOf(DType.class);

    /** Compiles the matmul, dot and dequantisation kernels for these weight types; once per JVM and type. */
    public static synchronized void run(Set<DType> types) {
        SplittableRandom r = new SplittableRandom(1);
        float[] w = new float[ROWS * COLS], x = new float[TOKENS * COLS], out = new float[TOKENS * ROWS], row = new float[COLS];
        for (int i = 0; i < w.length; i++) w[i] = (float) r.nextDouble(-1, 1);
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextDouble(-1, 1);
        boolean first = DONE.isEmpty();
        for (DType t : types) {
            if (t == DType.I32 || t == DType.I64 || t == DType.F64 || !DONE.add(t)) continue;
            MemorySegment seg = MemorySegment.ofArray(Quantize.encode(t, w));
            long rowBytes = t.bytesFor(COLS);
            for (int i = 0; i < CALLS; i++) {
                Gemm.rows(t, seg, 0, rowBytes, COLS, 0, ROWS, x, 0, TOKENS, out, 0, ROWS);  // prefill tiles
                Gemm.rows(t, seg, 0, rowBytes, COLS, 0, ROWS, x, 0, 1, out, 0, ROWS);       // decode dots
                if (i % 8 == 0) Dequant.dequantize(t, seg, 0, row, 0, COLS);               // embedding rows
            }
        }
        for (int i = 0; first && i < CALLS * 4; i++) {
            VectorOps.axpy(0.5f, x, 0, row, 0, COLS);
            out[0] += VectorOps.dot(x, 0, row, 0, COLS);
        }
    }
}
