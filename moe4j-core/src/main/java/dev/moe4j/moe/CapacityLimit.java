package dev.moe4j.moe;

/**
 * Wraps a strategy with an expert capacity {@code C = ceil(k · factor · T / N)}: entries past an expert's
 * capacity are dropped (the token keeps only its residual for that slot). First choices of all tokens are
 * served before any second choice (GShard's priority), earlier tokens before later ones.
 *
 * <p>For training and experiments, not the decode loop: it allocates its statistics on every call.
 */
public record CapacityLimit(RoutingStrategy inner, double factor) implements RoutingStrategy {

    public static int capacity(int k, double factor, int tokens, int experts) {
        return (int) Math.ceil(k * factor * tokens / experts);
    }

    @Override
    public void plan(float[] logits, int tokens, int experts, RoutingPlan plan) {
        inner.plan(logits, tokens, experts, plan);
        int k = plan.topK();
        int[] chosen = plan.chosenSlots();
        int dropped = keepWithinCapacity(chosen, tokens, k, experts, capacity(k, factor, tokens, experts));
        int[] loads = new int[experts];
        for (int i = 0; i < tokens * k; i++) if (chosen[i] >= 0) loads[chosen[i]]++;
        plan.index(new RoutingStats(loads, dropped, Double.NaN, Double.NaN), true);
    }

    /** Marks entries past capacity with -1 in place (slot-major priority); returns how many were dropped. */
    public static int keepWithinCapacity(int[] chosen, int tokens, int k, int experts, int capacity) {
        int[] used = new int[experts];
        int dropped = 0;
        for (int j = 0; j < k; j++) {
            for (int t = 0; t < tokens; t++) {
                int e = chosen[t * k + j];
                if (e < 0) continue;
                if (used[e] < capacity) used[e]++;
                else { chosen[t * k + j] = -1; dropped++; }
            }
        }
        return dropped;
    }
}
