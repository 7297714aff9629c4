package dev.moe4j.moe;

/**
 * What a router decided for a batch of tokens: for every token its k chosen experts and their weights,
 * and for every expert its bin of (token, slot) pairs so that each expert can run once over its rows.
 *
 * <p>Immutable by convention: the arrays are owned by the plan and never written after construction.
 */
public final class RoutingPlan {
    private final int tokens;
    private final int k;
    private final int experts;
    private final int[] chosen;       // [tokens * k] expert ids
    private final float[] weights;    // [tokens * k] combine weights
    private final int[] binOffsets;   // [experts + 1]
    private final int[] binEntries;   // [tokens * k] indices into chosen/weights (token * k + slot), grouped by expert
    private final RoutingStats stats; // null when the strategy computed none

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
        this.stats = stats;
        if (chosen.length != tokens * k || weights.length != tokens * k) {
            throw new IllegalArgumentException("plan arrays must hold tokens*k = " + tokens * k + " entries");
        }
        this.tokens = tokens;
        this.k = k;
        this.experts = experts;
        this.chosen = chosen;
        this.weights = weights;
        this.binOffsets = new int[experts + 1];
        for (int e : chosen) {
            if (e == -1 && allowEmpty) continue;
            if (e < 0 || e >= experts) throw new IllegalArgumentException("expert id " + e + " out of range [0, " + experts + ")");
            binOffsets[e + 1]++;
        }
        for (int e = 0; e < experts; e++) binOffsets[e + 1] += binOffsets[e];
        this.binEntries = new int[binOffsets[experts]];
        int[] fill = binOffsets.clone();
        for (int i = 0; i < chosen.length; i++) if (chosen[i] >= 0) binEntries[fill[chosen[i]]++] = i;
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

    /** Combine weight of the i-th entry of expert e's bin. */
    public float binWeight(int e, int i) { return weights[binEntries[binOffsets[e] + i]]; }

    /** Index {@code token * k + slot} of the i-th entry of expert e's bin (for per-slot values kept beside the plan). */
    public int binEntry(int e, int i) { return binEntries[binOffsets[e] + i]; }

    /** Statistics the strategy computed (loads, drops, auxiliary losses), or null. */
    public RoutingStats stats() { return stats; }

    /** Tokens per expert, for load statistics. */
    public int[] loads() {
        int[] l = new int[experts];
        for (int e = 0; e < experts; e++) l[e] = load(e);
        return l;
    }
}
