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
    public void plan(float[] logits, int tokens, int experts, RoutingPlan plan) {
        if (experts % groups != 0) throw new IllegalArgumentException(experts + " experts do not split into " + groups + " groups");
        int perGroup = experts / groups;
        plan.reset(tokens, k, experts);
        int[] chosen = plan.chosenSlots();
        float[] weights = plan.slotWeights();
        // One working array: s = scores [0, E), choice = biased scores [E, 2E), group scores [2E, 2E + groups).
        float[] work = plan.floatWork(2 * experts + groups);
        int s = 0, choice = experts, groupScore = 2 * experts;
        int[] keptGroups = plan.intWork(groupsKept);
        for (int t = 0; t < tokens; t++) {
            for (int e = 0; e < experts; e++) {
                work[s + e] = (float) (1.0 / (1.0 + Math.exp(-logits[t * experts + e])));
                work[choice + e] = work[s + e] + (bias == null ? 0f : bias[e]);
            }
            if (groupsKept < groups) {
                for (int g = 0; g < groups; g++) {
                    float best = Float.NEGATIVE_INFINITY, second = Float.NEGATIVE_INFINITY;
                    for (int e = g * perGroup; e < (g + 1) * perGroup; e++) {
                        float c = work[choice + e];
                        if (c > best) { second = best; best = c; }
                        else if (c > second) second = c;
                    }
                    work[groupScore + g] = perGroup == 1 ? best : best + second;
                }
                RoutingStrategy.topK(work, groupScore, groups, groupsKept, keptGroups, 0);
                for (int g = 0; g < groups; g++) {
                    boolean kept = false;
                    for (int i = 0; i < groupsKept; i++) kept |= keptGroups[i] == g;
                    if (!kept) for (int e = g * perGroup; e < (g + 1) * perGroup; e++) work[choice + e] = 0f;
                }
            }
            RoutingStrategy.topK(work, choice, experts, k, chosen, t * k);
            double sum = 0;
            for (int j = 0; j < k; j++) sum += work[s + chosen[t * k + j]];
            for (int j = 0; j < k; j++) {
                double w = work[s + chosen[t * k + j]];
                weights[t * k + j] = (float) ((renormalize ? w / (sum + 1e-20) : w) * scale);
            }
        }
        plan.index(null, false);
    }
}
