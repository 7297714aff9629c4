package dev.moe4j.moe;

/** GPT-OSS routing: keep the k largest raw logits, then softmax over just those k. */
public record TopKSoftmax(int k) implements RoutingStrategy {

    @Override
    public void plan(float[] logits, int tokens, int experts, RoutingPlan plan) {
        plan.reset(tokens, k, experts);
        int[] chosen = plan.chosenSlots();
        float[] weights = plan.slotWeights();
        for (int t = 0; t < tokens; t++) {
            RoutingStrategy.topK(logits, t * experts, experts, k, chosen, t * k);
            float max = logits[t * experts + chosen[t * k]];
            double sum = 0;
            for (int j = 0; j < k; j++) sum += Math.exp(logits[t * experts + chosen[t * k + j]] - max);
            for (int j = 0; j < k; j++) {
                weights[t * k + j] = (float) (Math.exp(logits[t * experts + chosen[t * k + j]] - max) / sum);
            }
        }
        plan.index(null, false);
    }
}
