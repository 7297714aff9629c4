package dev.moe4j.model;

import dev.moe4j.kernel.Activations;
import dev.moe4j.moe.FeedForward;
import dev.moe4j.moe.MoeLayer;
import dev.moe4j.moe.PlanListener;
import dev.moe4j.moe.RoutingPlan;

/**
 * One transformer block: pre-norm attention and a pre-norm feed-forward, each added to the residual. The
 * attention is ordinary or latent ({@link AttentionLayer}); the feed-forward an {@link MoeLayer} or, for layers a
 * model keeps dense, a dense MLP ({@link FeedForward}).
 */
public record Block(float[] attnNorm, AttentionLayer attention, float[] ffnNorm, FeedForward ffn, float normEps) {

    /** This block's MoE layer, or null when its feed-forward is dense. */
    public MoeLayer moe() {
        return ffn instanceof MoeLayer m ? m : null;
    }

    /**
     * Runs this block (layer {@code layer}) over the residual rows {@code x [seg.rows, hidden]} in place: attention per
     * segment against its sequence's cache, norms and feed-forward over all rows at once (so tokens of different
     * sequences that chose the same expert share one pass over its weights). {@code xn} and {@code y} are work rows
     * of the same size.
     */
    void forward(float[] x, float[] xn, float[] y, RowSegments seg, int layer, PlanListener plans) {
        int rows = seg.rows, d = attnNorm.length;
        normalizeRows(x, attnNorm, xn, rows, d);
        for (int s = 0; s < seg.count; s++) {
            attention.forward(xn, seg.offset[s], seg.length[s], seg.cache[s], layer, seg.ropeTables[s], y);
        }
        for (int i = 0; i < rows * d; i++) x[i] += y[i];
        normalizeRows(x, ffnNorm, xn, rows, d);
        RoutingPlan plan = ffn.forward(xn, rows, y);
        if (plan != null && plans != null) plans.onPlan(layer, plan);
        for (int i = 0; i < rows * d; i++) x[i] += y[i];
    }

    /**
     * RMSNorm of n rows of d values from x into xn. Several rows are spread over the pool (on one thread a prompt's
     * norms were a few percent of olmoe-mini's prefill) by a reused job, so batched decoding allocates nothing.
     */
    private void normalizeRows(float[] x, float[] w, float[] xn, int n, int d) {
        if (n == 1) {
            Activations.rmsNorm(x, 0, w, normEps, xn, 0, d);
            return;
        }
        NormJob job = NORM_JOBS.get();
        job.x = x; job.w = w; job.xn = xn; job.d = d; job.eps = normEps;
        try {
            job.forRange(n, 4L * d);
        } finally {
            job.x = job.w = job.xn = null;
        }
    }

    private static final class NormJob extends ParallelLoop {
        float[] x, w, xn;
        int d;
        float eps;

        @Override
        void item(int t) {
            Activations.rmsNorm(x, t * d, w, eps, xn, t * d, d);
        }
    }

    private static final ThreadLocal<NormJob> NORM_JOBS = ThreadLocal.withInitial(NormJob::new);
}
