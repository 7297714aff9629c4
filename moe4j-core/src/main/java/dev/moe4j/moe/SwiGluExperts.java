package dev.moe4j.moe;

import dev.moe4j.kernel.MatmulJob;
import dev.moe4j.kernel.VectorOps;
import dev.moe4j.kernel.Scratch;
import dev.moe4j.tensor.Matrix;

/** Experts of the form {@code down · (silu(gate · x) ⊙ (up · x))}, as views over the weight file. */
public final class SwiGluExperts implements ExpertBank {
    private final Matrix[] gate, up, down;

    public SwiGluExperts(Matrix[] gate, Matrix[] up, Matrix[] down) {
        if (gate.length != up.length || gate.length != down.length) throw new IllegalArgumentException("expert counts differ");
        this.gate = gate;
        this.up = up;
        this.down = down;
    }

    @Override public int experts() { return gate.length; }
    @Override public int inputDim() { return gate[0].cols(); }
    @Override public int hiddenDim() { return gate[0].rows(); }

    @Override
    public void forward(int e, float[] x, int rows, float[] out) {
        swiGlu(gate[e], up[e], down[e], x, rows, out);
    }

    /**
     * Decode step: the k chosen experts of one token, {@code out[dim] = Σ_i w_i · Expert_{ids_i}(x)}. All gate
     * and up projections go out as one parallel dispatch, all down projections as a second one.
     */
    public void forwardChosen(RoutingPlan plan, float[] x, float[] out) {
        int k = plan.topK(), h = hiddenDim(), d = inputDim();
        float[] g = Scratch.get(Scratch.GATE, k * h), u = Scratch.get(Scratch.UP, k * h), y = Scratch.get(Scratch.DOWN, k * d);
        MatmulJob job = MatmulJob.get();
        for (int i = 0; i < k; i++) job.add(gate[plan.expert(0, i)], x, 0, g, i * h).add(up[plan.expert(0, i)], x, 0, u, i * h);
        job.execute(1);
        VectorOps.siluMul(g, u, k * h);
        job = MatmulJob.get();
        for (int i = 0; i < k; i++) job.add(down[plan.expert(0, i)], g, i * h, y, i * d);
        job.execute(1);
        java.util.Arrays.fill(out, 0, d, 0f);
        for (int i = 0; i < k; i++) {
            float w = plan.weight(0, i);
            for (int j = 0; j < d; j++) out[j] += w * y[i * d + j];
        }
    }

    /**
     * Prefill: every expert over its bin of the plan's tokens, {@code out[t] = Σ w · Expert_e(x[t])}. The bins are
     * gathered into one buffer and all experts' gate and up projections go out as one parallel dispatch, all
     * down projections as a second: two forks and joins per layer instead of two per expert, and one pool of
     * chunks to balance.
     */
    public void forwardBins(RoutingPlan plan, float[] x, int tokens, float[] out) {
        int h = hiddenDim(), d = inputDim(), total = 0;
        for (int e = 0; e < plan.experts(); e++) total += plan.load(e);
        float[] rows = Scratch.get(Scratch.GATHER, total * d), g = Scratch.get(Scratch.GATE, total * h),
                u = Scratch.get(Scratch.UP, total * h), y = Scratch.get(Scratch.DOWN, total * d);
        MatmulJob job = MatmulJob.get();
        for (int e = 0, at = 0; e < plan.experts(); e++) {
            int n = plan.load(e);
            if (n == 0) continue;
            for (int i = 0; i < n; i++) System.arraycopy(x, plan.binToken(e, i) * d, rows, (at + i) * d, d);
            job.add(gate[e], rows, at * d, g, at * h, n).add(up[e], rows, at * d, u, at * h, n);
            at += n;
        }
        job.execute();
        VectorOps.siluMul(g, u, total * h);
        job = MatmulJob.get();
        for (int e = 0, at = 0; e < plan.experts(); e++) {
            int n = plan.load(e);
            if (n == 0) continue;
            job.add(down[e], g, at * h, y, at * d, n);
            at += n;
        }
        job.execute();
        java.util.Arrays.fill(out, 0, tokens * d, 0f);
        for (int e = 0, at = 0; e < plan.experts(); e++) {
            for (int i = 0, n = plan.load(e); i < n; i++, at++) {
                int t = plan.binToken(e, i);
                VectorOps.axpy(plan.binWeight(e, i), y, at * d, out, t * d, d);
            }
        }
    }

    /** One SwiGLU feed-forward over {@code rows} rows; shared by routed, shared and dense MLPs. */
    public static void swiGlu(Matrix gate, Matrix up, Matrix down, float[] x, int rows, float[] out) {
        int h = gate.rows();
        float[] g = Scratch.get(Scratch.GATE, rows * h), u = Scratch.get(Scratch.UP, rows * h);
        // Gate and up in one dispatch: both read x, neither waits for the other.
        MatmulJob.get().add(gate, x, 0, g, 0).add(up, x, 0, u, 0).execute(rows);
        VectorOps.siluMul(g, u, rows * h);
        down.matmul(g, rows, out);
    }
}
