package dev.moe4j.model;

/** The attention half of a transformer block: ordinary (grouped-query) attention or latent attention (MLA). */
public interface AttentionLayer {
    /**
     * Attention for the {@code n} tokens of one sequence at positions {@code [cache.length(), cache.length() + n)}:
     * reads rows {@code [row0, row0 + n)} of {@code xn [rows, hidden]} and writes the same rows of {@code out}; appends
     * the tokens' keys and values (or latents) to this layer's part of {@code cache} (the caller advances its length).
     *
     * @param ropeTables cos/sin of the model's rotary embedding for these positions, {@code [n, headDim/2]} each
     *                   ({@link Rope#tables}); a layer with a rotary embedding of its own may ignore them
     */
    void forward(float[] xn, int row0, int n, KvCache cache, int layer, float[][] ropeTables, float[] out);
}
