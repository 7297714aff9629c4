package dev.moe4j.moe;

import dev.moe4j.kernel.MatmulJob;
import dev.moe4j.kernel.Matrix;
import dev.moe4j.kernel.Scratch;

/**
 * GPT-OSS experts: biased gate and up projections, {@code gate} clamped above at {@code limit}, {@code up}
 * clamped to ±limit, {@code out = down · ((up + 1) · gate · sigmoid(alpha · gate)) + b_down}.
 */
public final class ClampedSwiGluExperts implements ExpertBank {
    private final Matrix[] gate, up, down;
    private final float[][] gateBias, upBias, downBias;
    private final float alpha, limit;

    public ClampedSwiGluExperts(Matrix[] gate, Matrix[] up, Matrix[] down, float[][] gateBias, float[][] upBias,
                                float[][] downBias, float alpha, float limit) {
        this.gate = gate; this.up = up; this.down = down;
        this.gateBias = gateBias; this.upBias = upBias; this.downBias = downBias;
        this.alpha = alpha;
        this.limit = limit;
    }

    @Override public int experts() { return gate.length; }
    @Override public int inputDim() { return gate[0].cols(); }
    @Override public int hiddenDim() { return gate[0].rows(); }

    /** Each chosen expert once over its gathered bin, then the weighted combine. */
    @Override
    public void forward(RoutingPlan plan, float[] x, float[] out) {
        int d = inputDim(), total = plan.entries();
        float[] rows = Scratch.get(Scratch.GATHER, total * d), y = Scratch.get(Scratch.DOWN, total * d);
        plan.gather(x, d, rows);
        for (int e = 0; e < plan.experts(); e++) {
            if (plan.load(e) > 0) expert(e, rows, plan.binStart(e), plan.load(e), y);
        }
        plan.combine(y, d, out);
    }

    /** y[at + r] = Expert_e(rows[at + r]) for r in [0, n): rows and y are [entries, dim], in bin order. */
    private void expert(int e, float[] rows, int at, int n, float[] y) {
        int h = gate[e].rows(), d = down[e].rows();
        float[] g = Scratch.get(Scratch.GATE, n * h), u = Scratch.get(Scratch.UP, n * h);
        MatmulJob.get().add(gate[e], rows, at * d, g, 0).add(up[e], rows, at * d, u, 0).execute(n);
        for (int r = 0; r < n; r++) {
            for (int i = 0; i < h; i++) {
                float gv = Math.min(g[r * h + i] + gateBias[e][i], limit);
                float uv = Math.max(-limit, Math.min(u[r * h + i] + upBias[e][i], limit));
                g[r * h + i] = (uv + 1f) * (float) (gv / (1.0 + Math.exp(-alpha * gv)));
            }
        }
        MatmulJob.get().add(down[e], g, 0, y, at * d).execute(n);
        for (int r = 0; r < n; r++) for (int i = 0; i < d; i++) y[(at + r) * d + i] += downBias[e][i];
    }
}
