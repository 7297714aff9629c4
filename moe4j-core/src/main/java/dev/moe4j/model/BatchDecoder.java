package dev.moe4j.model;

import dev.moe4j.moe.PlanListener;
import dev.moe4j.util.Moe4jException;

/**
 * One decode step for several independent sequences at once (continuous batching). Each sequence keeps
 * its own {@link KvCache} and position, so attention runs per sequence; everything that only looks at
 * a token's own row — norms, the MoE layer, the output head — runs once over all rows. In the MoE layer
 * that means tokens of different sequences that chose the same expert share one pass over its weights.
 * It is the transformer's own layer loop ({@link MoeTransformer#run}) with one single-row segment per sequence.
 *
 * <p>Gives the same logits as {@link MoeTransformer#forward} on each sequence alone. Not thread-safe:
 * like the transformer, drive it from one thread. Work arrays are per thread and kept between steps, so a
 * step that writes its logits into the caller's array allocates nothing once they have reached their size.
 */
public final class BatchDecoder {
    private final MoeTransformer model;

    public BatchDecoder(MoeTransformer model) {
        this.model = model;
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
        check(ids, caches);
        RowSegments seg = MoeTransformer.segments();
        seg.clear();
        for (KvCache cache : caches) seg.add(cache, 1);
        try {
            return model.run(ids, seg, false, out, plans);
        } finally {
            seg.clear();
        }
    }

    private static void check(int[] ids, KvCache[] caches) {
        if (ids.length == 0) throw new IllegalArgumentException("no sequences to decode");
        if (ids.length != caches.length) {
            throw new IllegalArgumentException(ids.length + " tokens for " + caches.length + " caches: need one token per sequence");
        }
        for (int s = 0; s < ids.length; s++) {
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
