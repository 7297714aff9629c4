package dev.moe4j.model;

/** Qwen3-MoE ({@code qwen3_moe}, GGUF {@code qwen3moe}): an RMSNorm over each q and k head before RoPE. */
final class Qwen3Moe extends Architecture {
    Qwen3Moe() {
        super("qwen3_moe", "qwen3moe", QkNorm.PER_HEAD, true);
    }
}
