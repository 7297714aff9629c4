package dev.moe4j.model;

/**
 * Qwen2-MoE / Qwen1.5-MoE ({@code qwen2_moe}, GGUF {@code qwen2moe}): top-k weights not renormalised, q/k/v biases,
 * and a shared expert scaled per token by {@code sigmoid(x · shared_expert_gate)}.
 */
final class Qwen2Moe extends Architecture {
    Qwen2Moe() {
        super("qwen2_moe", "qwen2moe", QkNorm.NONE, false);
    }

    @Override
    long attentionExtraParameters(ModelConfig c) {
        return c.qDim() + 2L * c.kvDim();   // q, k and v biases
    }
}
