package dev.moe4j.moe;

import dev.moe4j.kernel.Activations;
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

    /** One SwiGLU feed-forward over {@code rows} rows; shared by routed, shared and dense MLPs. */
    static void swiGlu(Matrix gate, Matrix up, Matrix down, float[] x, int rows, float[] out) {
        int h = gate.rows();
        float[] g = new float[rows * h];
        float[] u = new float[rows * h];
        gate.matmul(x, rows, g);
        up.matmul(x, rows, u);
        for (int i = 0; i < g.length; i++) g[i] = Activations.silu(g[i]) * u[i];
        down.matmul(g, rows, out);
    }
}
