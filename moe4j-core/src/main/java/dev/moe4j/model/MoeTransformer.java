package dev.moe4j.model;

import dev.moe4j.kernel.Activations;
import dev.moe4j.kernel.Matrix;
import dev.moe4j.kernel.Scratch;
import dev.moe4j.moe.PlanListener;
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

    public MoeTransformer(ModelConfig config, Matrix embedding, Block[] blocks, float[] outputNorm, Matrix output) {
        this.config = config;
        this.embedding = embedding;
        this.blocks = blocks;
        this.outputNorm = outputNorm;
        this.output = output;
        this.rope = new Rope(config.headDim(), config.ropeTheta(), config.ropeStyle(), config.ropeScaling());
    }

    public ModelConfig config() { return config; }
    public Block[] blocks() { return blocks; }

    /** The segments of this thread's passes, for {@link BatchDecoder}, which fills them with its sequences. */
    static RowSegments segments() { return SEGMENTS.get(); }

    public KvCache newCache(int capacity) {
        if (capacity <= 0) throw new IllegalArgumentException("cache capacity must be positive");
        ModelConfig.Mla mla = config.attention().mla();
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
     * @throws Moe4jException when a token id is out of range or the tokens would overflow the cache
     */
    public float[] forward(int[] ids, KvCache cache, boolean allLogits) {
        return forward(ids, cache, allLogits, null, null);
    }

    /**
     * As {@link #forward(int[], KvCache, boolean)}, writing the logits into {@code out} when it is large enough
     * (so a decode loop allocates no logits array per token), else into a new array.
     */
    public float[] forward(int[] ids, KvCache cache, boolean allLogits, float[] out) {
        return forward(ids, cache, allLogits, out, null);
    }

    /** As {@link #forward(int[], KvCache, boolean, float[])}, showing each MoE layer's routing plan to {@code plans} (may be null). */
    public float[] forward(int[] ids, KvCache cache, boolean allLogits, float[] out, PlanListener plans) {
        int n = ids.length, start = cache.length();
        if (n == 0) throw new IllegalArgumentException("no tokens to run");
        if (start + n > cache.capacity()) {
            throw new Moe4jException("sequence of " + (start + n) + " tokens exceeds the context of " + cache.capacity() + " tokens");
        }
        RowSegments seg = SEGMENTS.get();
        seg.clear();
        seg.add(cache, n);
        try {
            return run(ids, seg, allLogits, out, plans);
        } finally {
            seg.clear();
        }
    }

    /**
     * The layer loop, for a prompt (one segment) and for a batched decode step (one segment per sequence) alike:
     * row r of {@code ids} is the next token of its segment's sequence. Returns the logits of every row when
     * {@code allLogits}, else of each segment's last row, {@code [rows or segments, vocab]}.
     */
    float[] run(int[] ids, RowSegments seg, boolean allLogits, float[] out, PlanListener plans) {
        int rows = seg.rows, d = config.hidden(), vocab = config.vocabSize();
        float[] x = Scratch.get(Scratch.X, rows * d);
        for (int r = 0; r < rows; r++) {
            if (ids[r] < 0 || ids[r] >= vocab) throw new Moe4jException("token id " + ids[r] + " is out of range [0, " + vocab + ")");
            embedding.row(ids[r], x, r * d);
        }
        for (int s = 0; s < seg.count; s++) rope.tables(seg.cache[s].length(), seg.length[s], seg.ropeTables[s]);
        float[] xn = Scratch.get(Scratch.XN, rows * d), y = Scratch.get(Scratch.Y, rows * d);
        for (int l = 0; l < blocks.length; l++) blocks[l].forward(x, xn, y, seg, l, plans);
        for (int s = 0; s < seg.count; s++) seg.cache[s].advance(seg.length[s]);
        int outRows = allLogits ? rows : seg.count;
        float[] h = Scratch.get(Scratch.H, outRows * d);
        for (int o = 0; o < outRows; o++) {
            int r = allLogits ? o : seg.offset[o] + seg.length[o] - 1;
            Activations.rmsNorm(x, r * d, outputNorm, config.normEps(), h, o * d, d);
        }
        float[] logits = out != null && out.length >= outRows * vocab ? out : new float[outRows * vocab];
        output.matmul(h, outRows, logits);
        return logits;
    }

    // This thread's segments of the pass it is running.
    private static final ThreadLocal<RowSegments> SEGMENTS = ThreadLocal.withInitial(RowSegments::new);
}
