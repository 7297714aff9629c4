package dev.moe4j.kernel;

import dev.moe4j.tensor.DType;

import java.util.Arrays;

/**
 * One parallel dispatch of several matrix products: attention's q, k and v, an expert's gate and up (fused:
 * one pass over both), every chosen expert of a decode step, or every expert of a prompt with its own bin of
 * tokens. The rows of all parts are cut into chunks that the pool's threads claim, so a dispatch costs one
 * fork and one join however many matrices it covers.
 *
 * <p>For part p and token t &lt; n_p: {@code out_p[outOff_p + t*rows_p + r] = row r of m_p · x_p[xOff_p + t*cols_p ..]}.
 * Jobs are reused per calling thread ({@link #get}), so dispatching allocates nothing.
 */
public final class MatmulJob implements Parallel.Chunks {
    private static final ThreadLocal<MatmulJob> JOBS = ThreadLocal.withInitial(MatmulJob::new);
    /** Below this many multiply-adds a dispatch costs more than it saves. */
    private static final long INLINE_MACS = 48_000;
    /** A part's token count before {@link #execute(int)} sets it. */
    private static final int NO_COUNT = -1;

    private Matrix[] m = new Matrix[4];
    private float[][] x = new float[4][], out = new float[4][];
    private int[] xOff = new int[4], outOff = new int[4], tokens = new int[4], firstChunk = new int[5];
    /** Decode activations of each packed part, quantised (Q4_0; Q4_K and Q6_K) or pre-scaled (Q8); parts reading the same x share one. */
    private PackedQ4.Activations[] owned4 = new PackedQ4.Activations[4], act4 = new PackedQ4.Activations[4];
    private PackedQ8.Activations[] owned8 = new PackedQ8.Activations[4], act8 = new PackedQ8.Activations[4];
    private PackedQ4K.Activations[] ownedK = new PackedQ4K.Activations[4], actK = new PackedQ4K.Activations[4];
    /** Prefill activations of each packed part, interleaved by 8 tokens; parts reading the same x share one. */
    private PanelGemm.Interleaved[] ownedI = new PanelGemm.Interleaved[4], actI = new PanelGemm.Interleaved[4];
    private Q4Prefill.Quantized[] ownedQ = new Q4Prefill.Quantized[4], actQ = new Q4Prefill.Quantized[4];
    private int parts, chunkRows;
    /** Parts whose several-token activations are filled group by group, and the first group of each. */
    private int[] toPrepare = new int[4], firstGroup = new int[5];
    private int prepared;
    private final Parallel.Chunks prepare = c -> {
        int k = 0;
        while (firstGroup[k + 1] <= c) k++;
        int p = toPrepare[k], g = c - firstGroup[k];
        if (actQ[p] != null) actQ[p].group(x[p], xOff[p], g);
        else actI[p].group(x[p], xOff[p], g);
    };

    private MatmulJob() {}

    /** This thread's job, emptied. */
    public static MatmulJob get() {
        MatmulJob j = JOBS.get();
        j.parts = 0;
        return j;
    }

    /** Adds a part for the token count that {@link #execute(int)} gives. */
    public MatmulJob add(Matrix matrix, float[] x, int xOff, float[] out, int outOff) {
        return add(matrix, x, xOff, out, outOff, NO_COUNT);
    }

    /** Adds a part over {@code n} tokens of its own (run by {@link #execute()}). */
    public MatmulJob add(Matrix matrix, float[] x, int xOff, float[] out, int outOff, int n) {
        if (n < 0 && n != NO_COUNT) throw new IllegalArgumentException(matrix.name() + ": " + n + " tokens");
        if (parts == m.length) grow();
        tokens[parts] = n;
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
        tokens = Arrays.copyOf(tokens, n);
        firstGroup = Arrays.copyOf(firstGroup, n + 1);
        firstChunk = Arrays.copyOf(firstChunk, n + 1);
        owned4 = Arrays.copyOf(owned4, n);
        act4 = Arrays.copyOf(act4, n);
        owned8 = Arrays.copyOf(owned8, n);
        act8 = Arrays.copyOf(act8, n);
        ownedK = Arrays.copyOf(ownedK, n);
        actK = Arrays.copyOf(actK, n);
        ownedI = Arrays.copyOf(ownedI, n);
        actI = Arrays.copyOf(actI, n);
        ownedQ = Arrays.copyOf(ownedQ, n);
        actQ = Arrays.copyOf(actQ, n);
        toPrepare = Arrays.copyOf(toPrepare, n);
    }

    /** Computes every part for {@code n} tokens, then forgets the parts. */
    public void execute(int n) {
        Arrays.fill(tokens, 0, parts, n);
        execute();
    }

    /** Computes every part for its own token count, then forgets the parts. */
    public void execute() {
        long rows = 0, macs = 0;
        boolean decode = true;
        for (int p = 0; p < parts; p++) {
            if (tokens[p] == NO_COUNT) {
                String name = m[p].name();
                parts = 0;
                throw new IllegalStateException(name + ": added without a token count; use execute(n) or add(..., n)");
            }
            rows += m[p].rows();
            macs += (long) m[p].rows() * m[p].cols() * tokens[p];
            decode &= tokens[p] == 1;
        }
        prepareActivations();
        int threads = Parallel.threads();
        // About 8 chunks per thread balance prefill's load. Decoding streams weights from memory, and each jump
        // to a chunk elsewhere restarts the prefetchers, so it takes 2 longer ones (olmoe-mini Q4_0 generation:
        // 16 or 32 chunks per thread ran 25 % slower than 8; alternating runs of olmoe-1b-7b Q4_0, 2 against 4:
        // 47.0 against 44.8 tokens/s on average, olmoe-mini a few % ahead in each pair). A multiple of 16 rows
        // keeps micro-kernel tiles and packed panels whole.
        int perThread = decode ? 2 : 8;
        int target = threads == 1 || macs < INLINE_MACS ? 1 : threads * perThread, unit = PackedQ4.PANEL;
        chunkRows = (int) Math.max(unit, ((rows + target - 1) / target + unit - 1) / unit * unit);
        int chunks = 0;
        for (int p = 0; p < parts; p++) {
            firstChunk[p] = chunks;
            if (tokens[p] > 0) chunks += (m[p].rows() + chunkRows - 1) / chunkRows;
        }
        firstChunk[parts] = chunks;
        try {
            if (target == 1) for (int c = 0; c < chunks; c++) run(c);
            else Parallel.run(chunks, this);
        } finally {
            Arrays.fill(m, 0, parts, null);
            Arrays.fill(x, 0, parts, null);
            Arrays.fill(out, 0, parts, null);
            Arrays.fill(act4, 0, parts, null);
            Arrays.fill(act8, 0, parts, null);
            Arrays.fill(actK, 0, parts, null);
            Arrays.fill(actI, 0, parts, null);
            Arrays.fill(actQ, 0, parts, null);
            parts = 0;
        }
    }

    /**
     * Once per dispatch, not per chunk: packed parts take their activations prepared (quantised, interleaved).
     * Several tokens are prepared by the pool, a group of 8 tokens per chunk: done by the dispatching thread
     * alone, this took a tenth of olmoe-mini's prefill while the other threads waited.
     */
    private void prepareActivations() {
        prepared = 0;
        for (int p = 0; p < parts; p++) {
            DType dt = m[p].dtype();
            int n = tokens[p];
            if (!dt.isPacked() || n == 0) continue;
            // Gate and up of one expert, or q, k and v: same input, same preparation.
            boolean sameX = p > 0 && m[p - 1].dtype().isPacked() && x[p] == x[p - 1] && xOff[p] == xOff[p - 1]
                    && m[p].cols() == m[p - 1].cols() && tokens[p - 1] == n;
            if (n > 1 && dt == DType.Q4_0_R16 && Q4Prefill.SUPPORTED) {
                if (sameX && m[p - 1].dtype() == dt) { actQ[p] = actQ[p - 1]; continue; }
                if (ownedQ[p] == null) ownedQ[p] = new Q4Prefill.Quantized();
                actQ[p] = ownedQ[p].size(n, m[p].cols());
                toPrepare[prepared++] = p;
                continue;
            }
            if (n > 1) {
                if (sameX && actI[p - 1] != null) { actI[p] = actI[p - 1]; continue; }
                if (ownedI[p] == null) ownedI[p] = new PanelGemm.Interleaved();
                actI[p] = ownedI[p].size(n, m[p].cols());
                toPrepare[prepared++] = p;
                continue;
            }
            boolean same = sameX && m[p - 1].dtype() == dt;
            if (dt == DType.Q4_0_R16) {
                if (same) { act4[p] = act4[p - 1]; continue; }
                if (owned4[p] == null) owned4[p] = new PackedQ4.Activations();
                act4[p] = owned4[p].quantize(x[p], xOff[p], n, m[p].cols());
            } else if (dt == DType.Q4_K_R16 || dt == DType.Q6_K_R16) {   // the same 8-bit activations
                if (same) { actK[p] = actK[p - 1]; continue; }
                if (ownedK[p] == null) ownedK[p] = new PackedQ4K.Activations();
                actK[p] = ownedK[p].quantize(x[p], xOff[p], n, m[p].cols());
            } else {
                if (same) { act8[p] = act8[p - 1]; continue; }
                if (owned8[p] == null) owned8[p] = new PackedQ8.Activations();
                act8[p] = owned8[p].prepare(x[p], xOff[p], n, m[p].cols());
            }
        }
        if (prepared == 0) return;
        int total = 0;
        for (int k = 0; k < prepared; k++) {
            firstGroup[k] = total;
            total += (tokens[toPrepare[k]] + PanelGemm.T_MAX - 1) / PanelGemm.T_MAX;
        }
        firstGroup[prepared] = total;
        if (Parallel.threads() > 1 && total > 1) Parallel.run(total, prepare);
        else for (int c = 0; c < total; c++) prepare.run(c);
    }

    @Override
    public void run(int chunk) {
        int p = 0;
        while (firstChunk[p + 1] <= chunk) p++;
        Matrix w = m[p];
        int r0 = (chunk - firstChunk[p]) * chunkRows, r1 = Math.min(w.rows(), r0 + chunkRows);
        if (act4[p] != null) {
            PackedQ4.rows(w.data(), w.byteOffset(), w.cols(), r0, r1, act4[p], out[p], outOff[p], w.rows());
            return;
        }
        if (actK[p] != null) {
            if (w.dtype() == DType.Q4_K_R16) PackedQ4K.rows(w.data(), w.byteOffset(), w.cols(), r0, r1, actK[p], out[p], outOff[p], w.rows());
            else PackedQ6K.rows(w.data(), w.byteOffset(), w.cols(), r0, r1, actK[p], out[p], outOff[p], w.rows());
            return;
        }
        if (act8[p] != null) {
            PackedQ8.rows(w.data(), w.byteOffset(), w.cols(), r0, r1, act8[p], out[p], outOff[p], w.rows());
            return;
        }
        if (actQ[p] != null) {
            Q4Prefill.rows(w.data(), w.byteOffset(), w.cols(), r0, r1, actQ[p], out[p], outOff[p], w.rows());
            return;
        }
        if (actI[p] != null) {
            PanelGemm.rows(w.dtype(), w.data(), w.byteOffset(), w.cols(), r0, r1, actI[p], out[p], outOff[p], w.rows());
            return;
        }
        Gemm.rows(w.dtype(), w.data(), w.byteOffset(), w.rowBytes(), w.cols(), r0, r1,
                x[p], xOff[p], tokens[p], out[p], outOff[p], w.rows());
    }
}
