package dev.moe4j.moe;

/**
 * Turns router logits {@code [tokens, experts]} into a {@link RoutingPlan}. The logits array may be a
 * reused buffer longer than {@code tokens * experts}: read it, do not keep it.
 */
public interface RoutingStrategy {
    /**
     * Refills {@code plan} with the routing of these logits ({@link RoutingPlan#reset}, the slots,
     * {@link RoutingPlan#index}), reusing its arrays, so that routing one token after another allocates nothing.
     */
    void plan(float[] logits, int tokens, int experts, RoutingPlan plan);

    /** The routing of these logits in a new plan. */
    default RoutingPlan plan(float[] logits, int tokens, int experts) {
        RoutingPlan plan = new RoutingPlan();
        plan(logits, tokens, experts, plan);
        return plan;
    }

    /** Indices of the k largest values of {@code v[off .. off+n)}, best first; ties go to the lower index. */
    static void topK(float[] v, int off, int n, int k, int[] out, int outOff) {
        for (int s = 0; s < k; s++) out[outOff + s] = -1;
        for (int i = 0; i < n; i++) {
            float x = v[off + i];
            int pos = k;
            while (pos > 0 && (out[outOff + pos - 1] < 0 || x > v[off + out[outOff + pos - 1]])) pos--;
            if (pos >= k) continue;
            for (int s = k - 1; s > pos; s--) out[outOff + s] = out[outOff + s - 1];
            out[outOff + pos] = i;
        }
    }
}
