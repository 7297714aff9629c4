package dev.moe4j.model;

/** Mixtral ({@code mixtral}; GGUF {@code llama} with {@code llama.expert_count}): the base family as it is. */
final class Mixtral extends Architecture {
    Mixtral() {
        super("mixtral", "llama", QkNorm.NONE, true, "block_sparse_moe", "w1", "w3", "w2");
    }

    @Override
    void checkGguf(ConfigValues v) {
        if (!v.has("expert_count")) {
            throw v.error("architecture 'llama' without 'llama.expert_count' is a dense model, not a Mixture-of-Experts model");
        }
    }

    /** llama.cpp's {@code llama} graph rotates adjacent pairs, Hugging Face's Mixtral halves. */
    @Override public RopeStyle ggufRopeStyle() { return RopeStyle.ADJACENT; }

    /** So its converter permutes q/k rows, and so does moe4j's. */
    @Override boolean permuteQkForGguf() { return true; }
}
