package dev.moe4j.model;

import dev.moe4j.format.gguf.GgufWriter;
import dev.moe4j.moe.ExpertBank;
import dev.moe4j.moe.RoutingStrategy;
import dev.moe4j.moe.SoftmaxTopK;

import java.nio.file.Path;
import java.util.List;

/**
 * One MoE family, and everything moe4j knows about it in one class: its names in Hugging Face and GGUF files, the
 * config fields and tensors only it has, how its router weighs the chosen experts, its expert bank, its parameter
 * count and how it maps to GGUF. This base class is the common decoder-only MoE transformer (Mixtral's); a family
 * states only what differs, as Hugging Face's modular model files do.
 *
 * <p>The registry is {@link #ALL}: a new family is one subclass plus one line there.
 */
public abstract class Architecture {
    public static final Architecture MIXTRAL = new Mixtral();
    public static final Architecture QWEN2_MOE = new Qwen2Moe();
    public static final Architecture QWEN3_MOE = new Qwen3Moe();
    public static final Architecture OLMOE = new Olmoe();
    public static final Architecture DEEPSEEK_V3 = new DeepSeekV3();
    public static final Architecture GPT_OSS = new GptOss();

    /** Every family moe4j runs. */
    public static final List<Architecture> ALL = List.of(MIXTRAL, QWEN2_MOE, QWEN3_MOE, OLMOE, DEEPSEEK_V3, GPT_OSS);

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

    /** A family with Qwen's module names ({@code mlp.experts.N.gate_proj}, ...). */
    Architecture(String hfModelType, String ggufName, QkNorm qkNorm, boolean renormalizeByDefault) {
        this(hfModelType, ggufName, qkNorm, renormalizeByDefault, "mlp", "gate_proj", "up_proj", "down_proj");
    }

    // ---- config ----

    /** Reads what only this family's config.json holds into {@code d} (the common fields are read already). */
    void readHf(ConfigValues v, ConfigDraft d) {
    }

    /** Refuses, before anything else is read, a GGUF file of this family that moe4j cannot run. */
    void checkGguf(ConfigValues v) {
    }

    /**
     * Reads what only this family's GGUF metadata holds into {@code d} (the common keys are read already; {@code v}
     * reads under the {@code {arch}.} prefix). By default the rotary embedding must cover whole heads.
     */
    void readGguf(ConfigValues v, ConfigDraft d) {
        int ropeDim = v.positive("rope.dimension_count", d.headDim);
        if (ropeDim != d.headDim) {
            throw v.error("partial rotary embedding (" + v.describe("rope.dimension_count") + " is " + ropeDim + ", head dimension "
                    + d.headDim + ") is not supported");
        }
    }

    /** Checks what only this family requires of a config's parts; throws {@link ModelConfig.Invalid}. */
    void validate(ModelConfig.AttentionSpec attention, ModelConfig.MoeSpec moe) {
    }

    /**
     * The factor on q·k before the softmax: {@code 1/sqrt(head dimension)} (for latent attention the q/k head
     * dimension, nope + rope), as Hugging Face's attention modules set {@code self.scaling}.
     */
    double attentionScale(ModelConfig c) {
        return 1.0 / Math.sqrt(c.headDim());
    }

    // ---- routing and experts ----

    /**
     * How router logits become expert choices and weights (see moe-math.md): by default softmax over all experts,
     * top-k, renormalised when the config says so.
     *
     * @param l the layer, for families whose routing has tensors of its own (a selection bias)
     */
    RoutingStrategy routing(ModelConfig c, TensorNames names, Weights w, int l) {
        return new SoftmaxTopK(c.topK(), c.renormalizeTopK());
    }

    /** Whether the router has one number per expert besides its weight matrix (a logit or selection bias). */
    boolean routerHasBias() {
        return false;
    }

    /** Layer l's routed experts; by default SwiGLU experts in any of the usual tensor layouts. */
    ExpertBank experts(ModelConfig c, TensorNames names, Weights w, int l) {
        return ModelBuilder.swiGluExperts(c, names, w, l);
    }

    /** This family's tensor names in Hugging Face checkpoints ({@code model.layers.N....}). */
    public TensorNames hfNames() {
        return new HfTensorNames(this);
    }

    /** This family's tensor names in GGUF files (llama.cpp's {@code blk.N....}). */
    public TensorNames ggufNames() {
        return new GgufTensorNames();
    }

    /** Hugging Face module of the router inside the MoE block ({@code gate}, gpt-oss: {@code router}). */
    String hfRouterModule() {
        return "gate";
    }

    /** Hugging Face module of the shared expert(s) inside the MoE block. */
    String hfSharedExpertModule() {
        return "shared_expert";
    }

    // ---- parameter count ----

    /** Parameters of one layer's attention besides the q/k/v/o projections and q/k norms (biases, sinks). */
    long attentionExtraParameters(ModelConfig c) {
        return 0;
    }

    /** Parameters of one routed expert besides its three projections (biases). */
    long expertExtraParameters(ModelConfig c) {
        return 0;
    }

    // ---- GGUF ----

    /** How the GGUF graph of this family rotates q/k: llama.cpp's {@code llama} rotates adjacent pairs. */
    public RopeStyle ggufRopeStyle() {
        return RopeStyle.HALF;
    }

    /**
     * Whether this family's yarn rounds its correction range to whole dimensions (transformers' {@code truncate}, true
     * unless the config says otherwise); GGUF has no key for it, so a GGUF file's yarn takes this.
     */
    boolean yarnTruncates() {
        return true;
    }

    /** Whether a Hugging Face q/k projection must be permuted from rotate-half to adjacent pairs for GGUF. */
    boolean permuteQkForGguf() {
        return false;
    }

    /**
     * Refuses a checkpoint this family cannot write as GGUF (a one-line {@link dev.moe4j.util.Moe4jException} naming
     * {@code dir}); by default dense layers have no GGUF metadata key.
     */
    void checkGgufWritable(Path dir, ModelConfig c) {
        for (int l = 0; l < c.layers(); l++) {
            if (c.isDense(l)) throw new dev.moe4j.util.Moe4jException(
                    dir + ": dense layers in this pattern (mlp_only_layers / decoder_sparse_step) have no GGUF metadata key");
        }
    }

    /** Writes this family's {@code {arch}.*} keys beyond the common ones; {@code p} is the key prefix. */
    void writeGgufKeys(ModelConfig c, String p, GgufWriter g) {
        g.putUInt32(p + "attention.key_length", c.headDim());
        g.putUInt32(p + "attention.value_length", c.headDim());
        g.putUInt32(p + "rope.dimension_count", c.headDim());
        if (c.sharedExpertFfn() > 0) g.putUInt32(p + "expert_shared_feed_forward_length", c.sharedExpertFfn());
    }

    // ---- lookup ----

    public static Architecture fromHfModelType(String type) {
        for (Architecture a : ALL) if (a.hfModelType.equals(type)) return a;
        return null;
    }

    public static Architecture fromGgufName(String name) {
        for (Architecture a : ALL) if (a.ggufName.equals(name)) return a;
        return null;
    }

    public static String supportedList() {
        StringBuilder b = new StringBuilder();
        for (Architecture a : ALL) b.append(b.isEmpty() ? "" : ", ").append(a.hfModelType);
        return b.toString();
    }

    /** The GGUF names of the families whose GGUF files moe4j reads. */
    public static String supportedGgufList() {
        StringBuilder b = new StringBuilder();
        for (Architecture a : ALL) if (a.readsGguf()) b.append(b.isEmpty() ? "" : ", ").append(a.ggufName);
        return b.toString();
    }

    /** Whether moe4j reads this family's GGUF files. */
    boolean readsGguf() {
        return true;
    }

    @Override
    public String toString() {
        return hfModelType;
    }
}
