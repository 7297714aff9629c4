package dev.moe4j.model;

/** Which pairs of a head's dimensions RoPE rotates together. */
public enum RopeStyle {
    /** Pairs (i, i + d/2): Hugging Face's "rotate half", llama.cpp's NEOX mode. */
    HALF,
    /** Pairs (2i, 2i + 1): llama.cpp's NORM mode, used for GGUF `llama` files whose q/k rows the converter permuted. */
    ADJACENT
}
