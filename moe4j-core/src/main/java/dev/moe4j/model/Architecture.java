package dev.moe4j.model;

import java.util.Locale;

/**
 * What distinguishes one MoE family from another, as a small description over shared blocks:
 * where its tensors are, which norms it has, how its router weighs the chosen experts.
 */
public enum Architecture {
    MIXTRAL("mixtral", "llama", QkNorm.NONE, true, "block_sparse_moe", "w1", "w3", "w2"),
    QWEN2_MOE("qwen2_moe", "qwen2moe", QkNorm.NONE, false, "mlp", "gate_proj", "up_proj", "down_proj"),
    QWEN3_MOE("qwen3_moe", "qwen3moe", QkNorm.PER_HEAD, true, "mlp", "gate_proj", "up_proj", "down_proj"),
    OLMOE("olmoe", "olmoe", QkNorm.WHOLE, false, "mlp", "gate_proj", "up_proj", "down_proj");

    /** Where q/k get an RMSNorm before RoPE. */
    public enum QkNorm {
        NONE,
        /** Qwen3: over each head's {@code head_dim} values, one weight vector shared by all heads. */
        PER_HEAD,
        /** OLMoE: over the whole q projection and the whole k projection, before splitting into heads. */
        WHOLE
    }

    /** Hugging Face {@code model_type}. */
    public final String hfModelType;
    /** GGUF {@code general.architecture}. */
    public final String ggufName;
    public final QkNorm qkNorm;
    /** Whether the kept top-k weights are renormalised when the checkpoint does not say. */
    public final boolean renormalizeByDefault;
    /** Hugging Face module names of the MoE block and of the experts' projections. */
    public final String hfMoeBlock, hfGate, hfUp, hfDown;

    Architecture(String hfModelType, String ggufName, QkNorm qkNorm, boolean renormalizeByDefault,
                 String hfMoeBlock, String hfGate, String hfUp, String hfDown) {
        this.hfModelType = hfModelType;
        this.ggufName = ggufName;
        this.qkNorm = qkNorm;
        this.renormalizeByDefault = renormalizeByDefault;
        this.hfMoeBlock = hfMoeBlock;
        this.hfGate = hfGate;
        this.hfUp = hfUp;
        this.hfDown = hfDown;
    }

    public static Architecture fromHfModelType(String type) {
        for (Architecture a : values()) if (a.hfModelType.equals(type)) return a;
        return null;
    }

    public static Architecture fromGgufName(String name) {
        for (Architecture a : values()) if (a.ggufName.equals(name)) return a;
        return null;
    }

    public static String supportedList() {
        StringBuilder b = new StringBuilder();
        for (Architecture a : values()) b.append(b.isEmpty() ? "" : ", ").append(a.hfModelType);
        return b.toString();
    }

    public String displayName() {
        return hfModelType.toLowerCase(Locale.ROOT);
    }
}
