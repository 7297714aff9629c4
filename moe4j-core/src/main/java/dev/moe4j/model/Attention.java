package dev.moe4j.model;

import dev.moe4j.kernel.Activations;
import dev.moe4j.kernel.MatmulJob;
import dev.moe4j.kernel.Matrix;
import dev.moe4j.kernel.Parallel;
import dev.moe4j.kernel.Scratch;
import dev.moe4j.kernel.VectorOps;

/** Causal multi-head attention with grouped KV heads, optional q/k/v biases and q/k RMSNorm, and RoPE. */
public final class Attention implements AttentionLayer {
    private final ModelConfig c;
    private final Matrix wq, wk, wv, wo;
    private final float[] bq, bk, bv;     // null when absent
    private final float[] qNorm, kNorm;   // null when absent
    private final float[] bo;             // output bias, null when absent
    private final float[] sinks;          // per-head sink logits joining the softmax (GPT-OSS), null when absent
    private final int window;             // attend to the last `window` positions only; 0 = all
    private final Rope rope;
    private final float scale;            // of q·k before the softmax

    public Attention(ModelConfig c, Matrix wq, Matrix wk, Matrix wv, Matrix wo,
                     float[] bq, float[] bk, float[] bv, float[] qNorm, float[] kNorm) {
        this(c, wq, wk, wv, wo, bq, bk, bv, qNorm, kNorm, null, null, 0);
    }

    public Attention(ModelConfig c, Matrix wq, Matrix wk, Matrix wv, Matrix wo,
                     float[] bq, float[] bk, float[] bv, float[] qNorm, float[] kNorm, float[] bo, float[] sinks, int window) {
        this.c = c;
        this.wq = wq; this.wk = wk; this.wv = wv; this.wo = wo;
        this.bq = bq; this.bk = bk; this.bv = bv;
        this.qNorm = qNorm; this.kNorm = kNorm;
        this.bo = bo;
        this.sinks = sinks;
        this.window = window;
        this.rope = new Rope(c.headDim(), c.ropeTheta(), c.ropeStyle(), c.ropeScaling());
        this.scale = (float) c.architecture().attentionScale(c);
    }

    @Override
    public void forward(float[] xn, int row0, int n, KvCache cache, int layer, float[][] ropeTables, float[] out) {
        int start = cache.length(), d = c.hidden();
        float[] kCache = cache.keys[layer], vCache = cache.values[layer];
        int hd = c.headDim(), qDim = c.qDim(), kvDim = c.kvDim();
        float[] q = Scratch.get(Scratch.Q, n * qDim), k = Scratch.get(Scratch.K, n * kvDim), v = Scratch.get(Scratch.V, n * kvDim);
        MatmulJob.get().add(wq, xn, row0 * d, q, 0).add(wk, xn, row0 * d, k, 0).add(wv, xn, row0 * d, v, 0).execute(n); // one dispatch for q, k, v
        addBias(q, bq, n);
        addBias(k, bk, n);
        addBias(v, bv, n);
        if (n == 1) normalizeAndRotate(q, k, ropeTables, 0);
        else Parallel.forRange(n, 4L * (qDim + kvDim), t -> normalizeAndRotate(q, k, ropeTables, t));   // a prompt's tokens over the pool
        System.arraycopy(k, 0, kCache, start * kvDim, n * kvDim);
        System.arraycopy(v, 0, vCache, start * kvDim, n * kvDim);

        float[] att = Scratch.get(Scratch.ATT, n * qDim);
        java.util.Arrays.fill(att, 0, n * qDim, 0f);
        HeadJob job = HEAD_JOBS.get();
        job.layer = this;
        job.start = start;
        job.q = q;
        job.kCache = kCache;
        job.vCache = vCache;
        job.att = att;
        try {
            job.forRange(n * c.heads(), (long) (start + n) * hd * 2);
        } finally {
            job.forget();
        }
        MatmulJob.get().add(wo, att, 0, out, row0 * d).execute(n);
        if (bo != null) for (int t = row0; t < row0 + n; t++) for (int i = 0; i < d; i++) out[t * d + i] += bo[i];
    }

    /** Attention of one (token, head) pair: scores against the cached keys, softmax, weighted sum of values. */
    private void attendHead(int th, int start, float[] q, float[] kCache, float[] vCache, float[] att) {
        int hd = c.headDim(), qDim = c.qDim(), kvDim = c.kvDim();
        int t = th / c.heads(), h = th % c.heads();
        int kvh = h / (c.heads() / c.kvHeads()), len = start + t + 1;
        int from = window > 0 ? Math.max(0, len - window) : 0;
        float[] scores = Scratch.get(Scratch.SCORES, len - from + 1); // per worker thread
        int qo = t * qDim + h * hd;
        for (int j = from; j < len; j++) {
            scores[j - from] = VectorOps.dot(q, qo, kCache, j * kvDim + kvh * hd, hd) * scale;
        }
        int used = len - from;
        if (sinks != null) scores[used] = sinks[h];   // a logit with no value: it only takes probability mass
        Activations.softmax(scores, 0, sinks != null ? used + 1 : used);
        for (int j = from; j < len; j++) {
            VectorOps.axpy(scores[j - from], vCache, j * kvDim + kvh * hd, att, qo, hd);
        }
    }

    /** The head loop of one forward call; one per calling thread, reused. */
    private static final class HeadJob extends ParallelLoop {
        Attention layer;
        int start;
        float[] q, kCache, vCache, att;

        @Override
        void item(int th) {
            layer.attendHead(th, start, q, kCache, vCache, att);
        }

        /** Drops the references, so a finished sequence's cache is not kept alive by this thread's job. */
        void forget() {
            layer = null;
            q = kCache = vCache = att = null;
        }
    }

    private static final ThreadLocal<HeadJob> HEAD_JOBS = ThreadLocal.withInitial(HeadJob::new);

    private static void addBias(float[] x, float[] b, int n) {
        if (b == null) return;
        for (int t = 0; t < n; t++) for (int i = 0; i < b.length; i++) x[t * b.length + i] += b[i];
    }

    /** q/k norms and rotary embedding of token t's query and key rows. */
    private void normalizeAndRotate(float[] q, float[] k, float[][] ropeTables, int t) {
        int hd = c.headDim(), qDim = c.qDim(), kvDim = c.kvDim();
        normalizeQk(q, t * qDim, c.heads(), qNorm);
        normalizeQk(k, t * kvDim, c.kvHeads(), kNorm);
        for (int h = 0; h < c.heads(); h++) rope.apply(q, t * qDim + h * hd, ropeTables, t);
        for (int h = 0; h < c.kvHeads(); h++) rope.apply(k, t * kvDim + h * hd, ropeTables, t);
    }

    private void normalizeQk(float[] x, int off, int nHeads, float[] w) {
        if (w == null) return;
        switch (c.architecture().qkNorm) {
            case WHOLE -> Activations.rmsNorm(x, off, w, c.normEps(), x, off, nHeads * c.headDim());
            case PER_HEAD -> {
                for (int h = 0; h < nHeads; h++) {
                    Activations.rmsNorm(x, off + h * c.headDim(), w, c.normEps(), x, off + h * c.headDim(), c.headDim());
                }
            }
            case NONE -> { }
        }
    }
}
