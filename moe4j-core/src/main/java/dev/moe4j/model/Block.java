package dev.moe4j.model;

import dev.moe4j.moe.MoeLayer;
import dev.moe4j.tensor.Matrix;

/**
 * One transformer block: pre-norm attention and a pre-norm feed-forward, each added to the residual.
 * The feed-forward is an MoE layer, or a dense SwiGLU MLP for layers a model keeps dense. Attention is
 * ordinary ({@code attention}) or DeepSeek's latent attention ({@code mla}, with {@code attention} null).
 */
public record Block(float[] attnNorm, Attention attention, float[] ffnNorm, MoeLayer moe, DenseMlp dense, MlaAttention mla) {

    /** A block with ordinary attention. */
    public Block(float[] attnNorm, Attention attention, float[] ffnNorm, MoeLayer moe, DenseMlp dense) {
        this(attnNorm, attention, ffnNorm, moe, dense, null);
    }

    /** Runs this block's attention (either kind) for tokens at [start, start+n), appending to the layer's cache arrays. */
    public void attend(float[] xn, int n, int start, float[] keys, float[] values, Rope rope, float[][] ropeTables, float[] out) {
        if (mla != null) mla.forward(xn, n, start, keys, values, out);
        else attention.forward(xn, n, start, keys, values, rope, ropeTables, out);
    }

    /** A dense SwiGLU MLP ({@code down · (silu(gate·x) ⊙ up·x)}). */
    public record DenseMlp(Matrix gate, Matrix up, Matrix down) {
        public void forward(float[] x, int n, float[] out) {
            dev.moe4j.moe.SwiGluExperts.swiGlu(gate, up, down, x, n, out);
        }
    }
}
