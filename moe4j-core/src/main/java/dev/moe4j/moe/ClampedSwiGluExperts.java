package dev.moe4j.moe;

import dev.moe4j.kernel.Scratch;
import dev.moe4j.tensor.Matrix;

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

    @Override
    public void forward(int e, float[] x, int rows, float[] out) {
        int h = gate[e].rows(), d = down[e].rows();
        float[] g = Scratch.get(Scratch.GATE, rows * h), u = Scratch.get(Scratch.UP, rows * h);
        gate[e].matmul(x, rows, g);
        up[e].matmul(x, rows, u);
        for (int r = 0; r < rows; r++) {
            for (int i = 0; i < h; i++) {
                float gv = Math.min(g[r * h + i] + gateBias[e][i], limit);
                float uv = Math.max(-limit, Math.min(u[r * h + i] + upBias[e][i], limit));
                g[r * h + i] = (uv + 1f) * (float) (gv / (1.0 + Math.exp(-alpha * gv)));
            }
        }
        down[e].matmul(g, rows, out);
        for (int r = 0; r < rows; r++) for (int i = 0; i < d; i++) out[r * d + i] += downBias[e][i];
    }
}
