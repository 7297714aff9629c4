package dev.moe4j.model;

import java.util.Locale;

/**
 * What distinguishes one MoE family from another, as a small description over shared blocks:
 * where its tensors are, which norms it has, how its router weighs the chosen experts.
 */
public enum Architecture {
    MIXTRAL("mixtral", "llama", QkNorm.NONE, true, Routing.SOFTMAX_TOP_K, "block_sparse_moe", "w1", "w3", "w2"),
    QWEN2_MOE("qwen2_moe", "qwen2moe", QkNorm.NONE, false, Routing.SOFTMAX_TOP_K, "mlp", "gate_proj", "up_proj", "down_proj"),
    QWEN3_MOE("qwen3_moe", "qwen3moe", QkNorm.PER_HEAD, true, Routing.SOFTMAX_TOP_K, "mlp", "gate_proj", "up_proj", "down_proj"),
    OLMOE("olmoe", "olmoe", QkNorm.WHOLE, false, Routing.SOFTMAX_TOP_K, "mlp", "gate_proj", "up_proj", "down_proj"),
    /** MLA attention, sigmoid group-limited routing with a selection bias, shared experts, leading dense layers. */
    DEEPSEEK_V3("deepseek_v3", "deepseek2", QkNorm.NONE, true, Routing.SIGMOID_GROUPED, "mlp", "gate_proj", "up_proj", "down_proj"),
    /** Attention sinks, alternating sliding-window layers, biased clamped-SwiGLU experts, top-k-then-softmax routing. */
    GPT_OSS("gpt_oss", "gpt-oss", QkNorm.NONE, true, Routing.TOP_K_SOFTMAX, "mlp", "gate_proj", "up_proj", "down_proj");

    /** How router logits become expert choices and weights (see moe-math.md). */
    public enum Routing {
        /** softmax over all experts, top-k, optionally renormalised */
        SOFTMAX_TOP_K,
        /** sigmoid scores, top-k on scores + bias within the best groups, weights × routed scale */
        SIGMOID_GROUPED,
        /** top-k of the raw logits, softmax over the k */
        TOP_K_SOFTMAX
    }

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
    public final Routing routing;
    /** Hugging Face module names of the MoE block and of the experts' projections. */
    public final String hfMoeBlock, hfGate, hfUp, hfDown;

    Architecture(String hfModelType, String ggufName, QkNorm qkNorm, boolean renormalizeByDefault, Routing routing,
                 String hfMoeBlock, String hfGate, String hfUp, String hfDown) {
        this.routing = routing;
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
