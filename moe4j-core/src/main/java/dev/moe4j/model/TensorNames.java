package dev.moe4j.model;

/**
 * Names of a model's tensors in one file format. Expert tensors come in several layouts, so the loader
 * asks for each candidate and uses the one the file has.
 */
public interface TensorNames {
    String embedding();
    String outputNorm();
    String output();

    String attnNorm(int l);
    String ffnNorm(int l);
    String q(int l);
    String k(int l);
    String v(int l);
    String o(int l);
    String qBias(int l);
    String kBias(int l);
    String vBias(int l);
    String qNorm(int l);
    String kNorm(int l);

    String router(int l);

    /** Merged 3-D expert tensors {@code [experts, out, in]} (GGUF), or null when the format has none. */
    String mergedExperts(int l, Projection p);

    /** One expert's 2-D tensor. */
    String expert(int l, int e, Projection p);

    /** Fused gate+up 3-D tensor {@code [experts, 2*ffn, in]}, or null when the format has none. */
    String fusedGateUp(int l);

    String sharedExpert(int l, Projection p);
    String sharedExpertGate(int l);

    /** Dense (non-MoE) MLP of a layer. */
    String denseMlp(int l, Projection p);

    /** Bias added to the router logits (GPT-OSS). */
    String routerBias(int l);
    /** Bias added to the scores for selection only (DeepSeek-V3's e_score_correction_bias). */
    String selectionBias(int l);

    String oBias(int l);
    /** Per-head attention-sink logits (GPT-OSS). */
    String sinks(int l);

    // Multi-head latent attention (DeepSeek)
    String qA(int l);
    String qANorm(int l);
    String qB(int l);
    String kvA(int l);
    String kvANorm(int l);
    String kvB(int l);

    /**
     * The key half of {@link #kvB} per head, transposed: {@code [heads, kv rank, nope]} (llama.cpp's converter splits
     * {@code attn_kv_b} so); null where the format has no such tensor.
     */
    default String kB(int l) {
        return null;
    }

    /** The value half of {@link #kvB} per head: {@code [heads, v dim, kv rank]}; null where the format has none. */
    default String vB(int l) {
        return null;
    }

    /** Whether a tensor the model does not read may be in a checkpoint all the same (a buffer a trainer saved). */
    default boolean ignorable(String name) {
        return false;
    }

    enum Projection { GATE, UP, DOWN }
}
