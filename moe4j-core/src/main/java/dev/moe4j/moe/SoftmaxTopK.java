package dev.moe4j.moe;

/**
 * Softmax over all experts, keep the top k, optionally renormalise the kept weights to sum to one.
 * Mixtral and Qwen3-MoE renormalise; Qwen2-MoE and OLMoE do not.
 */
public record SoftmaxTopK(int k, boolean renormalize) implements RoutingStrategy {

    @Override
    public void plan(float[] logits, int tokens, int experts, RoutingPlan plan) {
        plan.reset(tokens, k, experts);
        int[] chosen = plan.chosenSlots();
        float[] weights = plan.slotWeights();
        float[] probs = plan.floatWork(experts);
        for (int t = 0; t < tokens; t++) {
            int off = t * experts;
            float max = Float.NEGATIVE_INFINITY;
            for (int e = 0; e < experts; e++) max = Math.max(max, logits[off + e]);
            double sum = 0;
            for (int e = 0; e < experts; e++) {
                probs[e] = (float) Math.exp(logits[off + e] - max);
                sum += probs[e];
            }
            for (int e = 0; e < experts; e++) probs[e] = (float) (probs[e] / sum);
            RoutingStrategy.topK(probs, 0, experts, k, chosen, t * k);
            double kept = 0;
            for (int s = 0; s < k; s++) kept += probs[chosen[t * k + s]];
            for (int s = 0; s < k; s++) {
                float p = probs[chosen[t * k + s]];
                weights[t * k + s] = renormalize ? (float) (p / kept) : p;
            }
        }
        plan.index(null, false);
    }
}
