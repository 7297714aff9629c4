package dev.moe4j.model;

import dev.moe4j.kernel.Activations;
import dev.moe4j.kernel.Parallel;
import dev.moe4j.kernel.Scratch;
import dev.moe4j.tensor.Matrix;
import dev.moe4j.util.Moe4jException;

/**
 * A decoder-only MoE transformer: embeddings, blocks, final norm, output head. One forward pass handles
 * any number of new tokens (prefill) or one (decode) against a {@link KvCache}.
 */
public final class MoeTransformer {
    private final ModelConfig config;
    private final Matrix embedding;   // [vocab, hidden]
    private final Block[] blocks;
    private final float[] outputNorm;
    private final Matrix output;      // [vocab, hidden]
    private final Rope rope;
    // This thread's rotary tables, refilled by every forward call.
    private static final ThreadLocal<float[][]> ROPE_TABLES = ThreadLocal.withInitial(() -> new float[2][]);

    public MoeTransformer(ModelConfig config, Matrix embedding, Block[] blocks, float[] outputNorm, Matrix output) {
        this.config = config;
        this.embedding = embedding;
        this.blocks = blocks;
        this.outputNorm = outputNorm;
        this.output = output;
        this.rope = new Rope(config.headDim(), config.ropeTheta(), config.ropeStyle());
    }

    public ModelConfig config() { return config; }
    public Block[] blocks() { return blocks; }

    // For BatchDecoder, which runs the same layers over several sequences at once.
    Matrix embedding() { return embedding; }
    float[] outputNorm() { return outputNorm; }
    Matrix output() { return output; }
    Rope rope() { return rope; }

    public KvCache newCache(int capacity) {
        if (capacity <= 0) throw new IllegalArgumentException("cache capacity must be positive");
        ModelConfig.Mla mla = config.extras().mla();
        if (mla == null) return new KvCache(config.layers(), config.kvDim(), capacity);
        int[] k = new int[config.layers()], v = new int[config.layers()];
        java.util.Arrays.fill(k, mla.kvLoraRank());
        java.util.Arrays.fill(v, mla.ropeDim());
        return new KvCache(k, v, capacity);
    }

    /**
     * Runs {@code ids} (the tokens following those already in {@code cache}) through the model.
     *
     * @return logits {@code [n, vocab]} for every new position when {@code allLogits}, else {@code [vocab]} for the last
     */
    public float[] forward(int[] ids, KvCache cache, boolean allLogits) {
        return forward(ids, cache, allLogits, null);
    }

    /**
     * As {@link #forward(int[], KvCache, boolean)}, writing the logits into {@code out} when it is large enough
     * (so a decode loop allocates no logits array per token), else into a new array.
     */
    public float[] forward(int[] ids, KvCache cache, boolean allLogits, float[] out) {
        int n = ids.length, d = config.hidden(), start = cache.length();
        if (n == 0) throw new IllegalArgumentException("no tokens to run");
        if (start + n > cache.capacity()) {
            throw new Moe4jException("sequence of " + (start + n) + " tokens exceeds the context of " + cache.capacity() + " tokens");
        }
        float[] x = Scratch.get(Scratch.X, n * d);
        for (int t = 0; t < n; t++) {
            if (ids[t] < 0 || ids[t] >= config.vocabSize()) {
                throw new Moe4jException("token id " + ids[t] + " is out of range [0, " + config.vocabSize() + ")");
            }
            embedding.row(ids[t], x, t * d);
        }
        float[][] ropeTables = rope.tables(start, n, ROPE_TABLES.get());
        float[] xn = Scratch.get(Scratch.XN, n * d), y = Scratch.get(Scratch.Y, n * d);
        for (int l = 0; l < blocks.length; l++) {
            Block b = blocks[l];
            normalizeRows(x, b.attnNorm(), xn, n, d);
            b.attend(xn, n, start, cache.keys[l], cache.values[l], rope, ropeTables, y);
            for (int i = 0; i < n * d; i++) x[i] += y[i];
            normalizeRows(x, b.ffnNorm(), xn, n, d);
            if (b.moe() != null) b.moe().forward(xn, n, y);
            else b.dense().forward(xn, n, y);
            for (int i = 0; i < n * d; i++) x[i] += y[i];
        }
        cache.advance(n);
        int from = allLogits ? 0 : n - 1, rows = n - from;
        float[] h = Scratch.get(Scratch.H, rows * d);
        for (int t = 0; t < rows; t++) Activations.rmsNorm(x, (from + t) * d, outputNorm, config.normEps(), h, t * d, d);
        float[] logits = out != null && out.length >= rows * config.vocabSize() ? out : new float[rows * config.vocabSize()];
        output.matmul(h, rows, logits);
        return logits;
    }
    /**
     * RMSNorm of n rows of d values from x into xn. A prompt's rows are spread over the pool (in double
     * precision they were a few percent of olmoe-mini's prefill on one thread); a decode step's one row runs
     * here, allocating nothing.
     */
    private void normalizeRows(float[] x, float[] w, float[] xn, int n, int d) {
        float eps = config.normEps();
        if (n == 1) Activations.rmsNorm(x, 0, w, eps, xn, 0, d);
        else Parallel.forRange(n, 4L * d, t -> Activations.rmsNorm(x, t * d, w, eps, xn, t * d, d));
    }
}
