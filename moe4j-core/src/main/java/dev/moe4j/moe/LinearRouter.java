package dev.moe4j.moe;

import dev.moe4j.kernel.Matrix;
import dev.moe4j.kernel.Scratch;

/** The usual router: logits = x · Wᵀ (+ b), then a {@link RoutingStrategy}. */
public final class LinearRouter implements Router {
    private final Matrix weight;   // [experts, dim]
    private final float[] bias;    // [experts] or null
    private final RoutingStrategy strategy;

    public LinearRouter(Matrix weight, float[] bias, RoutingStrategy strategy) {
        this.weight = weight;
        this.bias = bias;
        this.strategy = strategy;
    }

    @Override
    public void route(float[] hidden, int tokens, RoutingPlan plan) {
        int e = weight.rows();
        float[] logits = Scratch.get(Scratch.ROUTER, tokens * e);   // strategies read it, never keep it
        weight.matmul(hidden, tokens, logits);
        if (bias != null) for (int t = 0; t < tokens; t++) for (int i = 0; i < e; i++) logits[t * e + i] += bias[i];
        strategy.plan(logits, tokens, e, plan);
    }

    @Override
    public int experts() {
        return weight.rows();
    }

    public RoutingStrategy strategy() {
        return strategy;
    }
}
