package dev.moe4j.moe;

import dev.moe4j.kernel.Matrix;

/** A dense SwiGLU MLP ({@code down · (silu(gate·x) ⊙ up·x)}), for the layers a model keeps dense. */
public record DenseMlp(Matrix gate, Matrix up, Matrix down) implements FeedForward {
    @Override
    public RoutingPlan forward(float[] x, int rows, float[] out) {
        SwiGluExperts.swiGlu(gate, up, down, x, rows, out);
        return null;
    }
}
