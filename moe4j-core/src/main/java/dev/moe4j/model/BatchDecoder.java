package dev.moe4j.model;

import dev.moe4j.kernel.Activations;
import dev.moe4j.moe.RoutingPlan;
import dev.moe4j.util.Moe4jException;

/**
 * One decode step for several independent sequences at once (continuous batching). Each sequence keeps
 * its own {@link KvCache} and position, so attention runs per sequence; everything that only looks at
 * a token's own row — norms, the MoE layer, the output head — runs once over all rows. In the MoE layer
 * that means tokens of different sequences that chose the same expert share one pass over its weights.
 *
 * <p>Gives the same logits as {@link MoeTransformer#forward} on each sequence alone. Not thread-safe:
 * like the transformer, drive it from one thread. Its working arrays are kept between steps, so a step
 * that writes its logits into the caller's array allocates nothing once they have reached their size.
 */
public final class BatchDecoder {
    /** Sees the routing plan of every MoE layer in a step, e.g. to count tokens per expert. */
    @FunctionalInterface
    public interface PlanListener {
        /** The plan is refilled by the next layer call: read it here, do not keep it. */
        void onPlan(int layer, RoutingPlan plan);
    }

    private final MoeTransformer model;
    // Working arrays of a step, grown to the largest batch seen.
    private float[] x = new float[0], xn = new float[0], y = new float[0];
    private final float[] row, rowOut;
    private float[][][] ropeTables = new float[0][][];   // per sequence: {cos, sin} of its position

    public BatchDecoder(MoeTransformer model) {
        this.model = model;
        this.row = new float[model.config().hidden()];
        this.rowOut = new float[model.config().hidden()];
    }

    public float[] decode(int[] ids, KvCache[] caches) {
        return decode(ids, caches, null);
    }

    /**
     * Appends {@code ids[i]} to sequence {@code i} (whose state is {@code caches[i]}) and returns the next-token
     * logits of every sequence, {@code [ids.length, vocab]} row-major, in a new array.
     */
    public float[] decode(int[] ids, KvCache[] caches, PlanListener plans) {
        return decode(ids, caches, plans, null);
    }

    /**
     * As {@link #decode(int[], KvCache[], PlanListener)}, writing the logits into {@code out} when it holds at
     * least {@code [ids.length, vocab]} (so a serving loop allocates no logits per step), else into a new array.
     */
    public float[] decode(int[] ids, KvCache[] caches, PlanListener plans, float[] out) {
        ModelConfig c = model.config();
        int b = ids.length, d = c.hidden();
        check(ids, caches, c);
        grow(b, d);
        for (int s = 0; s < b; s++) model.embedding().row(ids[s], x, s * d);
        for (int s = 0; s < b; s++) model.rope().tables(caches[s].length(), 1, ropeTables[s]);
        Block[] blocks = model.blocks();
        for (int l = 0; l < blocks.length; l++) {
            Block blk = blocks[l];
            for (int s = 0; s < b; s++) {
                Activations.rmsNorm(x, s * d, blk.attnNorm(), c.normEps(), row, 0, d);
                KvCache cache = caches[s];
                blk.attend(row, 1, cache.length(), cache.keys[l], cache.values[l], model.rope(), ropeTables[s], rowOut);
                for (int i = 0; i < d; i++) x[s * d + i] += rowOut[i];
            }
            for (int s = 0; s < b; s++) Activations.rmsNorm(x, s * d, blk.ffnNorm(), c.normEps(), xn, s * d, d);
            if (blk.moe() != null) {
                RoutingPlan plan = blk.moe().forward(xn, b, y);
                if (plans != null) plans.onPlan(l, plan);
            } else {
                blk.dense().forward(xn, b, y);
            }
            for (int i = 0; i < b * d; i++) x[i] += y[i];
        }
        for (KvCache cache : caches) cache.advance(1);
        for (int s = 0; s < b; s++) Activations.rmsNorm(x, s * d, model.outputNorm(), c.normEps(), xn, s * d, d);
        float[] logits = out != null && out.length >= b * c.vocabSize() ? out : new float[b * c.vocabSize()];
        model.output().matmul(xn, b, logits);
        return logits;
    }

    private void grow(int b, int d) {
        if (x.length < b * d) {
            x = new float[b * d];
            xn = new float[b * d];
            y = new float[b * d];
        }
        if (ropeTables.length < b) {
            float[][][] t = java.util.Arrays.copyOf(ropeTables, b);
            for (int s = ropeTables.length; s < b; s++) t[s] = new float[2][];
            ropeTables = t;
        }
    }

    private static void check(int[] ids, KvCache[] caches, ModelConfig c) {
        if (ids.length == 0) throw new IllegalArgumentException("no sequences to decode");
        if (ids.length != caches.length) {
            throw new IllegalArgumentException(ids.length + " tokens for " + caches.length + " caches: need one token per sequence");
        }
        for (int s = 0; s < ids.length; s++) {
            if (ids[s] < 0 || ids[s] >= c.vocabSize()) {
                throw new Moe4jException("token id " + ids[s] + " is out of range [0, " + c.vocabSize() + ")");
            }
            KvCache cache = caches[s];
            // Pairwise, not a set: batches are small, and a set would be garbage on every step.
            for (int other = 0; other < s; other++) {
                if (caches[other] == cache) throw new IllegalArgumentException("sequence " + s + " shares its cache with another sequence");
            }
            if (cache.length() >= cache.capacity()) {
                throw new Moe4jException("sequence " + s + " is full: its cache holds " + cache.capacity() + " tokens");
            }
        }
    }
}
