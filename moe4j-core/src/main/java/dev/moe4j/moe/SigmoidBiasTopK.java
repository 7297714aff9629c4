package dev.moe4j.moe;

/**
 * DeepSeek-V3 routing without groups: scores {@code sigmoid(logits)}, selection on {@code scores + bias}
 * (the bias balances load and never weighs outputs), weights the unbiased scores of the chosen experts,
 * renormalised when asked, then multiplied by {@code scale}.
 */
public record SigmoidBiasTopK(int k, float[] bias, boolean renormalize, float scale) implements RoutingStrategy {

    @Override
    public RoutingPlan plan(float[] logits, int tokens, int experts) {
        int[] chosen = new int[tokens * k];
        float[] weights = new float[tokens * k];
        float[] s = new float[experts], biased = new float[experts];
        for (int t = 0; t < tokens; t++) {
            for (int e = 0; e < experts; e++) {
                s[e] = (float) (1.0 / (1.0 + Math.exp(-logits[t * experts + e])));
                biased[e] = s[e] + (bias == null ? 0f : bias[e]);
            }
            RoutingStrategy.topK(biased, 0, experts, k, chosen, t * k);
            double sum = 0;
            for (int j = 0; j < k; j++) sum += s[chosen[t * k + j]];
            for (int j = 0; j < k; j++) {
                double w = s[chosen[t * k + j]];
                weights[t * k + j] = (float) ((renormalize ? w / (sum + 1e-20) : w) * scale);
            }
        }
        return new RoutingPlan(tokens, k, experts, chosen, weights);
    }
}
