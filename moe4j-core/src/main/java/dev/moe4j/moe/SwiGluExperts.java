package dev.moe4j.moe;

import dev.moe4j.kernel.MatmulJob;
import dev.moe4j.kernel.Matrix;
import dev.moe4j.kernel.VectorOps;
import dev.moe4j.kernel.Scratch;

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

    /**
     * Every expert over its bin of the plan's tokens. All experts' gate and up projections go out as one parallel
     * dispatch, all down projections as a second: two forks and joins per layer instead of two per expert, and one
     * pool of chunks to balance. A single token (decode) is not gathered: every chosen expert reads its row in place,
     * so the dispatch prepares its activations once.
     */
    @Override
    public void forward(RoutingPlan plan, float[] x, float[] out) {
        int h = hiddenDim(), d = inputDim(), total = plan.entries();
        boolean decode = plan.tokens() == 1;
        float[] rows = x;
        if (!decode) {
            rows = Scratch.get(Scratch.GATHER, total * d);
            plan.gather(x, d, rows);
        }
        float[] g = Scratch.get(Scratch.GATE, total * h), u = Scratch.get(Scratch.UP, total * h), y = Scratch.get(Scratch.DOWN, total * d);
        MatmulJob job = MatmulJob.get();
        for (int e = 0; e < plan.experts(); e++) {
            int n = plan.load(e), at = plan.binStart(e);
            if (n == 0) continue;
            job.add(gate[e], rows, decode ? 0 : at * d, g, at * h, n).add(up[e], rows, decode ? 0 : at * d, u, at * h, n);
        }
        job.execute();
        VectorOps.siluMul(g, u, total * h);
        job = MatmulJob.get();
        for (int e = 0; e < plan.experts(); e++) {
            int n = plan.load(e);
            if (n > 0) job.add(down[e], g, plan.binStart(e) * h, y, plan.binStart(e) * d, n);
        }
        job.execute();
        plan.combine(y, d, out);
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
