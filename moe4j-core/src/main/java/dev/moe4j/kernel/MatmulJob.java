package dev.moe4j.kernel;

import dev.moe4j.tensor.DType;
import dev.moe4j.tensor.Matrix;

import java.util.Arrays;

/**
 * One parallel dispatch of several matrix products over the same number of tokens: attention's q, k and v,
 * an expert's gate and up (fused: one pass over both), or every chosen expert of a decode step. The rows of
 * all parts are cut into chunks that the pool's threads claim, so a dispatch costs one fork and one join
 * however many matrices it covers.
 *
 * <p>For part p and token t: {@code out_p[outOff_p + t*rows_p + r] = row r of m_p · x_p[xOff_p + t*cols_p ..]}.
 * Jobs are reused per calling thread ({@link #get}), so dispatching allocates nothing.
 */
public final class MatmulJob implements Parallel.Chunks {
    private static final ThreadLocal<MatmulJob> JOBS = ThreadLocal.withInitial(MatmulJob::new);
    /** Below this many multiply-adds a dispatch costs more than it saves. */
    private static final long INLINE_MACS = 48_000;

    private Matrix[] m = new Matrix[4];
    private float[][] x = new float[4][], out = new float[4][];
    private int[] xOff = new int[4], outOff = new int[4], firstChunk = new int[5];
    /** Quantised activations of each packed-Q4 part (parts reading the same x share one); owned, reused. */
    private PackedQ4.Activations[] owned = new PackedQ4.Activations[4], act = new PackedQ4.Activations[4];
    private int parts, chunkRows, tokens;

    private MatmulJob() {}

    /** This thread's job, emptied. */
    public static MatmulJob get() {
        MatmulJob j = JOBS.get();
        j.parts = 0;
        return j;
    }

    public MatmulJob add(Matrix matrix, float[] x, int xOff, float[] out, int outOff) {
        if (parts == m.length) grow();
        m[parts] = matrix;
        this.x[parts] = x;
        this.xOff[parts] = xOff;
        this.out[parts] = out;
        this.outOff[parts] = outOff;
        parts++;
        return this;
    }

    private void grow() {
        int n = 2 * m.length;
        m = Arrays.copyOf(m, n);
        x = Arrays.copyOf(x, n);
        out = Arrays.copyOf(out, n);
        xOff = Arrays.copyOf(xOff, n);
        outOff = Arrays.copyOf(outOff, n);
        firstChunk = Arrays.copyOf(firstChunk, n + 1);
        owned = Arrays.copyOf(owned, n);
        act = Arrays.copyOf(act, n);
    }

    /** Computes every part for {@code n} tokens, then forgets the parts. */
    public void execute(int n) {
        tokens = n;
        long rows = 0, macs = 0;
        for (int p = 0; p < parts; p++) {
            rows += m[p].rows();
            macs += (long) m[p].rows() * m[p].cols() * n;
        }
        quantizeActivations();
        int threads = Parallel.threads();
        // About 8 chunks per thread balance the load; a multiple of 16 rows keeps micro-kernel tiles and
        // packed panels whole.
        int target = threads == 1 || macs < INLINE_MACS ? 1 : threads * 8, unit = PackedQ4.PANEL;
        chunkRows = (int) Math.max(unit, ((rows + target - 1) / target + unit - 1) / unit * unit);
        int chunks = 0;
        for (int p = 0; p < parts; p++) {
            firstChunk[p] = chunks;
            chunks += (m[p].rows() + chunkRows - 1) / chunkRows;
        }
        firstChunk[parts] = chunks;
        try {
            if (target == 1) for (int c = 0; c < chunks; c++) run(c);
            else Parallel.run(chunks, this);
        } finally {
            Arrays.fill(m, 0, parts, null);
            Arrays.fill(x, 0, parts, null);
            Arrays.fill(out, 0, parts, null);
            Arrays.fill(act, 0, parts, null);
            parts = 0;
        }
    }

    /** Once per dispatch, not per chunk: packed-Q4 parts of a decode step take 8-bit activations. */
    private void quantizeActivations() {
        if (tokens != 1) return;
        for (int p = 0; p < parts; p++) {
            if (m[p].dtype() != DType.Q4_0_R16) continue;
            if (p > 0 && act[p - 1] != null && x[p] == x[p - 1] && xOff[p] == xOff[p - 1] && m[p].cols() == m[p - 1].cols()) {
                act[p] = act[p - 1];    // gate and up of one expert, or q, k and v: same input
                continue;
            }
            if (owned[p] == null) owned[p] = new PackedQ4.Activations();
            act[p] = owned[p].quantize(x[p], xOff[p], tokens, m[p].cols());
        }
    }

    @Override
    public void run(int chunk) {
        int p = 0;
        while (firstChunk[p + 1] <= chunk) p++;
        Matrix w = m[p];
        int r0 = (chunk - firstChunk[p]) * chunkRows, r1 = Math.min(w.rows(), r0 + chunkRows);
        if (act[p] != null) {
            PackedQ4.rows(w.data(), w.byteOffset(), w.cols(), r0, r1, act[p], out[p], outOff[p], w.rows());
            return;
        }
        Gemm.rows(w.dtype(), w.data(), w.byteOffset(), w.rowBytes(), w.cols(), r0, r1,
                x[p], xOff[p], tokens, out[p], outOff[p], w.rows());
    }
}
