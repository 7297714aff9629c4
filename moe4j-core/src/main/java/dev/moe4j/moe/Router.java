package dev.moe4j.moe;

/** Scores a batch of hidden states and decides which experts each token goes to. */
public interface Router {
    /** @param hidden {@code [tokens, dim]} normalised hidden states */
    RoutingPlan route(float[] hidden, int tokens);

    int experts();
}
