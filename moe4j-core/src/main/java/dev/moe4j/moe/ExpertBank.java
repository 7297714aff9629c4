package dev.moe4j.moe;

/**
 * Every routed expert of one MoE layer. Given a {@link RoutingPlan} it computes
 * {@code out[t] = Σ_slots weight · Expert_e(x[t])} for the plan's tokens: dispatch ({@link RoutingPlan#gather}),
 * each chosen expert once over its bin, combine ({@link RoutingPlan#combine}). Implementations may read weights from
 * a memory-mapped file, a cache, or another machine; how they schedule the experts is theirs to choose.
 */
public interface ExpertBank {
    int experts();

    /** Width of a token's row ({@code hidden}). */
    int inputDim();

    /** Width of an expert's intermediate layer ({@code moe_intermediate_size}). */
    int hiddenDim();

    /**
     * {@code out[tokens, inputDim] = Σ_slots weight · Expert_e(x[t])} for the {@code plan.tokens()} rows of {@code x}.
     * Overwrites {@code out}'s first {@code tokens × inputDim} values.
     */
    void forward(RoutingPlan plan, float[] x, float[] out);
}
