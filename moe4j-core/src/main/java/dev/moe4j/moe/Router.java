package dev.moe4j.moe;

/** Scores a batch of hidden states and decides which experts each token goes to. */
public interface Router {
    /**
     * Refills {@code plan} with the routing of these hidden states, reusing its arrays.
     *
     * @param hidden {@code [tokens, dim]} normalised hidden states
     */
    void route(float[] hidden, int tokens, RoutingPlan plan);

    /** The routing of these hidden states in a new plan. */
    default RoutingPlan route(float[] hidden, int tokens) {
        RoutingPlan plan = new RoutingPlan();
        route(hidden, tokens, plan);
        return plan;
    }

    int experts();
}
