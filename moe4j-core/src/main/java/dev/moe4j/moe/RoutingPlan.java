package dev.moe4j.moe;

import dev.moe4j.kernel.VectorOps;

/**
 * What a router decided for a batch of tokens: for every token its k chosen experts and their weights,
 * and for every expert its bin of (token, slot) pairs so that each expert can run once over its rows.
 *
 * <p>A plan is refillable: {@link RoutingStrategy}s write into one the caller owns, reusing its arrays, so a
 * decode loop that keeps its plans allocates none. A plan handed out by {@link MoeLayer#forward} is therefore
 * only valid until that layer's next forward call on the same thread; copy what must outlive it.
 */
public final class RoutingPlan {
    private int tokens;
    private int k;
    private int experts;
    private int[] chosen = new int[0];       // [tokens * k] expert ids (grow-only, may be longer)
    private float[] weights = new float[0];  // [tokens * k] combine weights
    private int[] binOffsets = new int[1];   // [experts + 1]
    private int[] binEntries = new int[0];   // indices into chosen/weights (token * k + slot), grouped by expert
    private int[] binCursor = new int[0];    // [experts] fill position of each bin while indexing
    private float[] floatWork = new float[0];
    private int[] intWork = new int[0];
    private RoutingStats stats;              // null when the strategy computed none

    /** An empty plan, for a {@link RoutingStrategy} to fill (and refill). */
    public RoutingPlan() {}

    /** A plan over the caller's arrays, which it keeps (no copy). Every slot must name an expert. */
    public RoutingPlan(int tokens, int k, int experts, int[] chosen, float[] weights) {
        this(tokens, k, experts, chosen, weights, null, false);
    }

    /**
     * A plan with statistics, in which a slot may be empty: expert id {@code -1} marks an entry dropped for
     * capacity (or, in expert-choice routing, a slot no expert filled). Empty slots are in no bin.
     */
    public RoutingPlan(int tokens, int k, int experts, int[] chosen, float[] weights, RoutingStats stats) {
        this(tokens, k, experts, chosen, weights, stats, true);
    }

    private RoutingPlan(int tokens, int k, int experts, int[] chosen, float[] weights, RoutingStats stats, boolean allowEmpty) {
        if (chosen.length != tokens * k || weights.length != tokens * k) {
            throw new IllegalArgumentException("plan arrays must hold tokens*k = " + tokens * k + " entries");
        }
        this.tokens = tokens;
        this.k = k;
        this.experts = experts;
        this.chosen = chosen;
        this.weights = weights;
        index(stats, allowEmpty);
    }

    /**
     * Starts refilling this plan for {@code tokens × k} slots over {@code experts} experts (the previous contents
     * are lost); fill every slot with {@link #set}, then call {@link #index}.
     */
    public void reset(int tokens, int k, int experts) {
        int slots = tokens * k;
        if (chosen.length < slots) {
            chosen = new int[slots];
            weights = new float[slots];
        }
        this.tokens = tokens;
        this.k = k;
        this.experts = experts;
        this.stats = null;
    }

    /** Routes slot {@code slot} of {@code token} to {@code expert} ({@code -1}: empty) with a combine weight. */
    public void set(int token, int slot, int expert, float weight) {
        chosen[token * k + slot] = expert;
        weights[token * k + slot] = weight;
    }

    /**
     * Sorts the filled slots into the experts' bins and attaches the statistics.
     *
     * @param allowEmpty whether expert id {@code -1} may mark an empty slot; otherwise it is an error
     */
    public void index(RoutingStats stats, boolean allowEmpty) {
        this.stats = stats;
        int slots = tokens * k;
        if (binOffsets.length < experts + 1) {
            binOffsets = new int[experts + 1];
            binCursor = new int[experts];
        }
        java.util.Arrays.fill(binOffsets, 0, experts + 1, 0);
        for (int i = 0; i < slots; i++) {
            int e = chosen[i];
            if (e == -1 && allowEmpty) continue;
            if (e < 0 || e >= experts) throw new IllegalArgumentException("expert id " + e + " out of range [0, " + experts + ")");
            binOffsets[e + 1]++;
        }
        for (int e = 0; e < experts; e++) binOffsets[e + 1] += binOffsets[e];
        if (binEntries.length < binOffsets[experts]) binEntries = new int[Math.max(binOffsets[experts], slots)];
        System.arraycopy(binOffsets, 0, binCursor, 0, experts);
        for (int i = 0; i < slots; i++) if (chosen[i] >= 0) binEntries[binCursor[chosen[i]]++] = i;
    }

    /** The slots' expert ids {@code [token * k + slot]}, for strategies that fill them in bulk (longer than tokens × k). */
    int[] chosenSlots() { return chosen; }

    /** The slots' combine weights, as {@link #chosenSlots}. */
    float[] slotWeights() { return weights; }

    /** Working space of at least n floats for a strategy's intermediate scores, reused with the plan. */
    float[] floatWork(int n) {
        if (floatWork.length < n) floatWork = new float[n];
        return floatWork;
    }

    /** Working space of at least n ints, as {@link #floatWork}. */
    int[] intWork(int n) {
        if (intWork.length < n) intWork = new int[n];
        return intWork;
    }

    public int tokens() { return tokens; }
    public int topK() { return k; }
    public int experts() { return experts; }

    public int expert(int token, int slot) { return chosen[token * k + slot]; }
    public float weight(int token, int slot) { return weights[token * k + slot]; }

    /** Number of (token, slot) entries routed to expert e. */
    public int load(int e) { return binOffsets[e + 1] - binOffsets[e]; }

    /** Token of the i-th entry of expert e's bin. */
    public int binToken(int e, int i) { return binEntries[binOffsets[e] + i] / k; }

    /** Index {@code token * k + slot} of the i-th entry of expert e's bin (for per-slot values kept beside the plan). */
    public int binEntry(int e, int i) { return binEntries[binOffsets[e] + i]; }

    /** Number of (token, slot) entries in all bins together: the rows of {@link #gather}'s output. */
    public int entries() { return binOffsets[experts]; }

    /** Row of expert e's first entry in bin order, i.e. where its bin starts in {@link #gather}'s output. */
    public int binStart(int e) { return binOffsets[e]; }

    /**
     * Dispatch (MegaBlocks' binned gather): copies the token row of every entry, bin after bin, from
     * {@code x[tokens, dim]} into {@code rows[entries(), dim]}, so that expert e's rows start at {@link #binStart}(e).
     */
    public void gather(float[] x, int dim, float[] rows) {
        for (int i = 0, n = entries(); i < n; i++) System.arraycopy(x, binEntries[i] / k * dim, rows, i * dim, dim);
    }

    /**
     * Combine (binned scatter): {@code out[t] = Σ weight · y[entry]} over token t's entries, where {@code y[entries(), dim]}
     * holds the experts' outputs in bin order; overwrites {@code out[tokens, dim]} (a token with no entry gets zeros).
     * Sums run in bin order, so the result does not depend on how the experts' work was scheduled.
     */
    public void combine(float[] y, int dim, float[] out) {
        java.util.Arrays.fill(out, 0, tokens * dim, 0f);
        for (int i = 0, n = entries(); i < n; i++) {
            int entry = binEntries[i];
            VectorOps.axpy(weights[entry], y, i * dim, out, entry / k * dim, dim);
        }
    }

    /**
     * Expert e's bin of {@code x[tokens, dim]} gathered into {@code rows[load(e), dim]}, each row scaled by its
     * slot's entry of {@code slotWeights [tokens * k]} (null: unscaled). Double precision, for training.
     */
    public void gatherBin(int e, double[] x, int dim, double[] slotWeights, double[] rows) {
        for (int i = 0, n = load(e); i < n; i++) {
            int entry = binEntries[binOffsets[e] + i], src = entry / k * dim;
            double w = slotWeights == null ? 1.0 : slotWeights[entry];
            for (int j = 0; j < dim; j++) rows[i * dim + j] = w * x[src + j];
        }
    }

    /**
     * The transpose of {@link #gatherBin}: adds each row of {@code rows[load(e), dim]}, scaled by its slot weight
     * (null: 1), to its token's row of {@code out[tokens, dim]}. Double precision, for training.
     */
    public void scatterAddBin(int e, double[] rows, int dim, double[] slotWeights, double[] out) {
        for (int i = 0, n = load(e); i < n; i++) {
            int entry = binEntries[binOffsets[e] + i], dst = entry / k * dim;
            double w = slotWeights == null ? 1.0 : slotWeights[entry];
            for (int j = 0; j < dim; j++) out[dst + j] += w * rows[i * dim + j];
        }
    }

    /** Statistics the strategy computed (loads, drops, auxiliary losses), or null. */
    public RoutingStats stats() { return stats; }

    /** Tokens per expert, for load statistics (a new array; {@link #load} allocates nothing). */
    public int[] loads() {
        int[] l = new int[experts];
        for (int e = 0; e < experts; e++) l[e] = load(e);
        return l;
    }
}
