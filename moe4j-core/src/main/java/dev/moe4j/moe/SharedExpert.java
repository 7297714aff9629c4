package dev.moe4j.moe;

import dev.moe4j.kernel.Matrix;
import dev.moe4j.kernel.Scratch;

/**
 * An always-on SwiGLU expert added to every token's output; Qwen2-MoE scales it per token by
 * {@code sigmoid(x · gateᵀ)}, DeepSeek adds it unscaled ({@code gate == null}).
 */
public record SharedExpert(Matrix gateProj, Matrix upProj, Matrix downProj, Matrix gate) {

    /** out[rows, dim] += SharedExpert(x). */
    public void addTo(float[] x, int rows, float[] out) {
        int dim = gateProj.cols();
        float[] y = Scratch.get(Scratch.SHARED, rows * dim);
        SwiGluExperts.swiGlu(gateProj, upProj, downProj, x, rows, y);
        float[] s = null;
        if (gate != null) {
            s = Scratch.get(Scratch.SHARED_GATE, rows);
            gate.matmul(x, rows, s);
        }
        for (int t = 0; t < rows; t++) {
            float scale = s == null ? 1f : (float) (1.0 / (1.0 + Math.exp(-s[t])));
            for (int i = 0; i < dim; i++) out[t * dim + i] += scale * y[t * dim + i];
        }
    }
}
