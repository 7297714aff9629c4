package dev.moe4j.model;

import dev.moe4j.kernel.Activations;
import dev.moe4j.kernel.MatmulJob;
import dev.moe4j.kernel.Matrix;
import dev.moe4j.kernel.Scratch;
import dev.moe4j.kernel.VectorOps;

/**
 * DeepSeek's multi-head latent attention. Keys and values are rebuilt from a compressed latent
 * {@code c = RMSNorm(W_kva · x)[:rank]} per token, so the cache holds only {@code c} and the shared rotary
 * key {@code k_pe} — not per-head keys and values. Attention runs in the "absorbed" form:
 * {@code q_nope · (W_kb c) = (W_kbᵀ q_nope) · c} and {@code Σ p v = W_vb (Σ p c)}, which is exact.
 */
public final class MlaAttention implements AttentionLayer {
    private final int heads, rank, nope, ropeDim, vDim;
    private final float eps;
    private final Matrix wq, wqa, wqb, wkva, wo;   // wq when there is no q low-rank path, else wqa/wqb
    private final LatentProjections kv;
    private final float[] qaNorm, kvaNorm;
    private final Rope rope;
    private final float scale;   // of q·k before the softmax

    public MlaAttention(int heads, int rank, int nope, int ropeDim, int vDim, float eps, Matrix wq, Matrix wqa, float[] qaNorm,
                        Matrix wqb, Matrix wkva, float[] kvaNorm, LatentProjections kv, Matrix wo, double ropeTheta, RopeStyle ropeStyle,
                        RopeScaling ropeScaling, double scale) {
        this.heads = heads; this.rank = rank; this.nope = nope; this.ropeDim = ropeDim; this.vDim = vDim; this.eps = eps;
        this.wq = wq; this.wqa = wqa; this.qaNorm = qaNorm; this.wqb = wqb;
        this.wkva = wkva; this.kvaNorm = kvaNorm; this.kv = kv; this.wo = wo;
        // With rope_interleave Hugging Face de-interleaves the rope part before rotate-half; the same
        // permutation on q and k leaves q·k unchanged, so rotating adjacent pairs in place is equivalent.
        this.rope = new Rope(ropeDim, ropeTheta, ropeStyle, ropeScaling);
        this.scale = (float) scale;
    }

    /**
     * The projections from the latent back to per-head keys and values, in one of two layouts: Hugging Face's
     * {@code kv_b_proj} {@code [heads · (nope + v dim), rank]} (each head's nope key rows, then its value rows), or
     * llama.cpp's split {@code attn_k_b} seen as {@code [heads · rank, nope]} (each head's key block transposed) and
     * {@code attn_v_b} as {@code [heads · v dim, rank]} ({@code convert_hf_to_gguf.py}, DeepseekV2Model).
     */
    public record LatentProjections(Matrix kvB, Matrix kBTransposed, Matrix vB) {
        public LatentProjections {
            if ((kvB == null) == (kBTransposed == null || vB == null)) throw new IllegalArgumentException("kv_b or k_b and v_b");
        }
    }

    /** Width of the latent cache entry ({@code c}) and of the rotary key entry ({@code k_pe}). */
    public int latentWidth() { return rank; }
    public int ropeWidth() { return ropeDim; }

    /**
     * As {@link AttentionLayer#forward}; the cache's key part holds latents {@code c [capacity, rank]} and its value
     * part the rotary keys {@code k_pe [capacity, ropeDim]}. The model's rope tables are not used: the rotary part
     * has a width of its own.
     */
    @Override
    public void forward(float[] xn, int row0, int n, KvCache cache, int layer, float[][] ropeTables, float[] out) {
        int start = cache.length(), d = wo.rows();
        float[] cCache = cache.keys[layer], peCache = cache.values[layer];
        int qkHead = nope + ropeDim, qDim = heads * qkHead;
        // The scratch slots of ordinary attention, which never runs in a latent-attention block.
        float[] q = Scratch.get(Scratch.Q, n * qDim);
        if (wq != null) {
            MatmulJob.get().add(wq, xn, row0 * d, q, 0).execute(n);
        } else {
            float[] qa = Scratch.get(Scratch.K, n * wqa.rows());
            MatmulJob.get().add(wqa, xn, row0 * d, qa, 0).execute(n);
            for (int t = 0; t < n; t++) Activations.rmsNorm(qa, t * wqa.rows(), qaNorm, eps, qa, t * wqa.rows(), wqa.rows());
            wqb.matmul(qa, n, q);
        }
        float[] kva = Scratch.get(Scratch.V, n * (rank + ropeDim));
        MatmulJob.get().add(wkva, xn, row0 * d, kva, 0).execute(n);
        float[][] tables = rope.tables(start, n, ROPE_TABLES.get());
        for (int t = 0; t < n; t++) {
            int src = t * (rank + ropeDim), pos = start + t;
            Activations.rmsNorm(kva, src, kvaNorm, eps, cCache, pos * rank, rank);
            System.arraycopy(kva, src + rank, peCache, pos * ropeDim, ropeDim);
            rope.apply(peCache, pos * ropeDim, tables, t);
            for (int h = 0; h < heads; h++) rope.apply(q, t * qDim + h * qkHead + nope, tables, t);
        }

        float[] ctx = Scratch.get(Scratch.ATT, n * heads * vDim);
        HeadJob job = HEAD_JOBS.get();
        job.layer = this;
        job.start = start;
        job.q = q;
        job.cCache = cCache;
        job.peCache = peCache;
        job.ctx = ctx;
        try {
            job.forRange(n * heads, (long) (start + n) * (rank + ropeDim) + (long) nope * rank * 2);
        } finally {
            job.forget();
        }
        MatmulJob.get().add(wo, ctx, 0, out, row0 * d).execute(n);
    }

    /** Attention of one (token, head) pair in the absorbed form, writing that head's context row. */
    private void attendHead(int th, int start, float[] q, float[] cCache, float[] peCache, float[] ctx) {
        int qkHead = nope + ropeDim, qDim = heads * qkHead;
        int t = th / heads, h = th % heads, len = start + t + 1;
        int qo = t * qDim + h * qkHead;
        // q_abs = W_kb(h)ᵀ q_nope: row i of head h's key block, weighted by q_nope[i]
        float[] qAbs = Scratch.get(Scratch.LATENT_Q, rank), row = Scratch.get(Scratch.LATENT_ROW, Math.max(rank, nope));
        if (kv.kBTransposed() != null) {
            for (int r = 0; r < rank; r++) {
                kv.kBTransposed().row(h * rank + r, row, 0);
                qAbs[r] = VectorOps.dot(row, 0, q, qo, nope);
            }
        } else {
            java.util.Arrays.fill(qAbs, 0, rank, 0f);
            for (int i = 0; i < nope; i++) {
                kv.kvB().row(h * (nope + vDim) + i, row, 0);
                VectorOps.axpy(q[qo + i], row, 0, qAbs, 0, rank);
            }
        }
        float[] scores = Scratch.get(Scratch.SCORES, len);
        for (int j = 0; j < len; j++) {
            scores[j] = (VectorOps.dot(qAbs, 0, cCache, j * rank, rank) + VectorOps.dot(q, qo + nope, peCache, j * ropeDim, ropeDim)) * scale;
        }
        Activations.softmax(scores, 0, len);
        float[] latent = Scratch.get(Scratch.LATENT_SUM, rank);
        java.util.Arrays.fill(latent, 0, rank, 0f);
        for (int j = 0; j < len; j++) {
            VectorOps.axpy(scores[j], cCache, j * rank, latent, 0, rank);
        }
        // v = W_vb(h) · Σ p c
        for (int i = 0; i < vDim; i++) {
            if (kv.vB() != null) kv.vB().row(h * vDim + i, row, 0);
            else kv.kvB().row(h * (nope + vDim) + nope + i, row, 0);
            ctx[(t * heads + h) * vDim + i] = VectorOps.dot(row, 0, latent, 0, rank);
        }
    }

    /** The head loop of one forward call; one per calling thread, reused. */
    private static final class HeadJob extends ParallelLoop {
        MlaAttention layer;
        int start;
        float[] q, cCache, peCache, ctx;

        @Override
        void item(int th) {
            layer.attendHead(th, start, q, cCache, peCache, ctx);
        }

        /** Drops the references, so a finished sequence's cache is not kept alive by this thread's job. */
        void forget() {
            layer = null;
            q = cCache = peCache = ctx = null;
        }
    }

    private static final ThreadLocal<HeadJob> HEAD_JOBS = ThreadLocal.withInitial(HeadJob::new);
    // This thread's rotary tables for the latent keys (the transformer's own tables are for ordinary attention).
    private static final ThreadLocal<float[][]> ROPE_TABLES = ThreadLocal.withInitial(() -> new float[2][]);
}
