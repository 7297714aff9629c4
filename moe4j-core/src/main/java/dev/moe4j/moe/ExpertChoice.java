package dev.moe4j.moe;

/**
 * Expert-choice routing (Zhou et al. 2022): each expert takes the {@code C = ceil(T · factor / N)} tokens with the
 * highest softmax score for it, weighted by that score. A token may get any number of experts, so the plan has
 * one slot per expert (empty slots are -1). A token's routing depends on the other tokens of the batch,
 * later ones included, so this strategy is for non-causal use only (it allocates its working arrays per call).
 */
public record ExpertChoice(double factor) implements RoutingStrategy {

    public static int capacity(double factor, int tokens, int experts) {
        return Math.min(tokens, (int) Math.ceil(tokens * factor / experts));
    }

    @Override
    public void plan(float[] logits, int tokens, int experts, RoutingPlan plan) {
        float[] p = logits.clone();
        for (int t = 0; t < tokens; t++) dev.moe4j.kernel.Activations.softmax(p, t * experts, experts);
        int c = capacity(factor, tokens, experts);
        plan.reset(tokens, experts, experts);
        int[] chosen = plan.chosenSlots();
        float[] weights = plan.slotWeights();
        java.util.Arrays.fill(chosen, 0, tokens * experts, -1);
        java.util.Arrays.fill(weights, 0, tokens * experts, 0f);
        float[] column = new float[tokens];
        int[] top = new int[c];
        int[] loads = new int[experts];
        for (int e = 0; e < experts; e++) {
            for (int t = 0; t < tokens; t++) column[t] = p[t * experts + e];
            RoutingStrategy.topK(column, 0, tokens, c, top, 0);
            for (int t : top) {
                chosen[t * experts + e] = e;
                weights[t * experts + e] = column[t];
            }
            loads[e] = c;
        }
        plan.index(new RoutingStats(loads, 0, Double.NaN, Double.NaN), true);
    }
}
