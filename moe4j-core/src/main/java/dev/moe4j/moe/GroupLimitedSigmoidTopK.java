package dev.moe4j.moe;

/**
 * DeepSeek-V3 routing: scores {@code sigmoid(logits)}; choice on {@code scores + bias} restricted to the
 * best {@code groupsKept} of {@code groups} expert groups (a group scores the sum of its two best biased
 * scores); the chosen experts weigh their unbiased scores, renormalised when asked, times {@code scale}.
 *
 * <p>Experts of dropped groups are masked to 0.0, not −∞, exactly as Hugging Face does, so an expert
 * whose biased score is negative can lose even to a masked one.
 */
public record GroupLimitedSigmoidTopK(int k, float[] bias, int groups, int groupsKept, boolean renormalize, float scale)
        implements RoutingStrategy {

    public GroupLimitedSigmoidTopK {
        if (groups < 1 || groupsKept < 1 || groupsKept > groups) {
            throw new IllegalArgumentException("need 1 <= groups kept (" + groupsKept + ") <= groups (" + groups + ")");
        }
    }

    @Override
    public RoutingPlan plan(float[] logits, int tokens, int experts) {
        if (experts % groups != 0) throw new IllegalArgumentException(experts + " experts do not split into " + groups + " groups");
        int perGroup = experts / groups;
        int[] chosen = new int[tokens * k];
        float[] weights = new float[tokens * k];
        float[] s = new float[experts], choice = new float[experts], groupScore = new float[groups];
        int[] keptGroups = new int[groupsKept];
        for (int t = 0; t < tokens; t++) {
            for (int e = 0; e < experts; e++) {
                s[e] = (float) (1.0 / (1.0 + Math.exp(-logits[t * experts + e])));
                choice[e] = s[e] + (bias == null ? 0f : bias[e]);
            }
            if (groupsKept < groups) {
                for (int g = 0; g < groups; g++) {
                    float best = Float.NEGATIVE_INFINITY, second = Float.NEGATIVE_INFINITY;
                    for (int e = g * perGroup; e < (g + 1) * perGroup; e++) {
                        if (choice[e] > best) { second = best; best = choice[e]; }
                        else if (choice[e] > second) second = choice[e];
                    }
                    groupScore[g] = perGroup == 1 ? best : best + second;
                }
                RoutingStrategy.topK(groupScore, 0, groups, groupsKept, keptGroups, 0);
                for (int g = 0; g < groups; g++) {
                    boolean kept = false;
                    for (int kg : keptGroups) kept |= kg == g;
                    if (!kept) for (int e = g * perGroup; e < (g + 1) * perGroup; e++) choice[e] = 0f;
                }
            }
            RoutingStrategy.topK(choice, 0, experts, k, chosen, t * k);
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
