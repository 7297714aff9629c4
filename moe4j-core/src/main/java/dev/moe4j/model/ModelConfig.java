package dev.moe4j.model;

/**
 * Hyper-parameters of an MoE transformer, whichever file they came from, grouped by concern: the model's own sizes
 * here, then its {@link AttentionSpec attention}, {@link MoeSpec MoE layers} and {@link DenseSpec dense layers}.
 * Every part checks its values when built and throws {@link Invalid} naming the {@link Field}, so that a reader can
 * report it under the key of its file.
 */
public record ModelConfig(
        Architecture architecture,
        int vocabSize,
        int hidden,
        int layers,
        int contextLength,
        float normEps,
        boolean tiedEmbeddings,
        AttentionSpec attention,
        MoeSpec moe,
        DenseSpec dense) {

    /**
     * Attention of every layer: grouped-query heads with a rotary embedding, or DeepSeek's latent attention when
     * {@code mla} is set; GPT-OSS's sliding window on the layers {@code slidingLayers} marks (null: none); the rotary
     * embedding's {@link RopeScaling} (null: none).
     */
    public record AttentionSpec(int heads, int kvHeads, int headDim, double ropeTheta, RopeStyle ropeStyle, Mla mla,
                                int slidingWindow, boolean[] slidingLayers, RopeScaling ropeScaling) {
        /** Plain attention without latent attention, sliding windows or rope scaling. */
        public AttentionSpec(int heads, int kvHeads, int headDim, double ropeTheta, RopeStyle ropeStyle) {
            this(heads, kvHeads, headDim, ropeTheta, ropeStyle, null, 0, null, null);
        }

        public AttentionSpec {
            if (ropeScaling == null) ropeScaling = RopeScaling.NONE;
            positive(Field.HEADS, heads);
            check(kvHeads > 0 && heads % kvHeads == 0, Field.KV_HEADS, kvHeads, "must divide the " + heads + " attention heads");
            check(headDim > 0 && headDim % 2 == 0, Field.HEAD_DIM, headDim, "must be positive and even");
            check(ropeTheta > 1 && ropeTheta < Double.POSITIVE_INFINITY, Field.ROPE_THETA, ropeTheta, "must be a finite number > 1");
            if (mla != null) mla.check();
            if (slidingLayers != null) for (boolean s : slidingLayers) if (s) positive(Field.SLIDING_WINDOW, slidingWindow);
        }

        public boolean slides(int layer) {
            return slidingLayers != null && slidingLayers[layer];
        }
    }

    /**
     * The MoE layers: {@code experts} routed experts of width {@code expertFfn}, {@code topK} per token (renormalised
     * or not), a shared expert of width {@code sharedFfn} (0: none; gated by a sigmoid for Qwen2-MoE), DeepSeek's
     * expert groups ({@code groups}, {@code groupsKept}; 1 and 1 when ungrouped) and routed scale, and GPT-OSS's
     * clamped SwiGLU ({@code swigluAlpha}, {@code swigluLimit}; 0 when unused).
     */
    public record MoeSpec(int experts, int topK, int expertFfn, boolean renormalize, int sharedFfn, boolean sharedGated,
                          int groups, int groupsKept, float routedScale, float swigluAlpha, float swigluLimit) {
        /** Ungrouped routing, plain SwiGLU experts. */
        public MoeSpec(int experts, int topK, int expertFfn, boolean renormalize, int sharedFfn, boolean sharedGated) {
            this(experts, topK, expertFfn, renormalize, sharedFfn, sharedGated, 1, 1, 1f, 0f, 0f);
        }

        public MoeSpec {
            positive(Field.EXPERTS, experts);
            check(topK > 0 && topK <= experts, Field.TOP_K, topK, "must be in [1, " + experts + "] (the expert count)");
            positive(Field.EXPERT_FFN, expertFfn);
            check(sharedFfn >= 0, Field.SHARED_FFN, sharedFfn, "must not be negative");
            check(groups >= 1 && experts % groups == 0, Field.GROUPS, groups, "must divide the " + experts + " experts");
            check(groupsKept >= 1 && groupsKept <= groups, Field.GROUPS_KEPT, groupsKept, "must be in [1, " + groups + "]");
            int eligible = groupsKept * (experts / groups);
            check(topK <= eligible, Field.TOP_K, topK, "must be at most the " + eligible + " experts of the groups kept");
            check(routedScale > 0 && routedScale < Float.POSITIVE_INFINITY, Field.ROUTED_SCALE, routedScale,
                    "must be a finite number > 0");
            check(swigluLimit >= 0 && swigluLimit < Float.POSITIVE_INFINITY && swigluAlpha >= 0
                    && swigluAlpha < Float.POSITIVE_INFINITY, Field.SWIGLU_LIMIT, swigluLimit, "must be a finite number >= 0");
        }
    }

    /**
     * Layers whose feed-forward is a dense SwiGLU MLP of width {@code ffn} (e.g. Qwen's {@code mlp_only_layers},
     * DeepSeek's leading layers); all other layers are MoE layers. {@code layers} null: none.
     */
    public record DenseSpec(int ffn, boolean[] layers) {
        public static final DenseSpec NONE = new DenseSpec(0, null);

        public DenseSpec {
            if (layers != null) for (boolean dense : layers) if (dense) positive(Field.DENSE_FFN, ffn);
        }
    }

    /** DeepSeek's multi-head latent attention: q low-rank (0 = none), kv latent rank, per-head dims. */
    public record Mla(int qLoraRank, int kvLoraRank, int nopeDim, int ropeDim, int vDim) {
        public int qkHeadDim() { return nopeDim + ropeDim; }

        void check() {
            ModelConfig.check(qLoraRank >= 0, Field.Q_LORA_RANK, qLoraRank, "must not be negative");
            positive(Field.KV_LORA_RANK, kvLoraRank);
            ModelConfig.check(nopeDim >= 0, Field.NOPE_DIM, nopeDim, "must not be negative");
            ModelConfig.check(ropeDim > 0 && ropeDim % 2 == 0, Field.ROPE_DIM, ropeDim, "must be positive and even");
            positive(Field.V_DIM, vDim);
        }
    }

    /** The hyper-parameters that can be invalid, so that a reader can report one under its file's key. */
    public enum Field {
        VOCAB("vocab size"), HIDDEN("hidden size"), LAYERS("layer count"), HEADS("attention head count"),
        KV_HEADS("key/value head count"), HEAD_DIM("head dimension"), CONTEXT("context length"), NORM_EPS("RMSNorm epsilon"),
        ROPE_THETA("rotary base (theta)"), EXPERTS("expert count"), TOP_K("experts per token"), EXPERT_FFN("expert width"),
        SHARED_FFN("shared expert width"), DENSE_FFN("dense MLP width"), GROUPS("expert group count"),
        GROUPS_KEPT("expert groups kept"), ROUTED_SCALE("routed expert scale"), Q_LORA_RANK("q low-rank dimension"),
        KV_LORA_RANK("kv latent dimension"), NOPE_DIM("non-rotary head dimension"), ROPE_DIM("rotary head dimension"),
        V_DIM("value head dimension"), SLIDING_WINDOW("sliding window"), SWIGLU_LIMIT("SwiGLU clamp limit");

        public final String label;

        Field(String label) {
            this.label = label;
        }
    }

    /** An invalid hyper-parameter: which one, its value, and what it must be. */
    public static final class Invalid extends IllegalArgumentException {
        public final Field field;
        public final Object value;
        public final String rule;

        Invalid(Field field, Object value, String rule) {
            super("invalid " + field.label + " " + value + ": " + rule);
            this.field = field;
            this.value = value;
            this.rule = rule;
        }
    }

    /** @throws Invalid for a value no model can have (each reader reports it under its file's key) */
    public ModelConfig {
        if (dense == null) dense = DenseSpec.NONE;
        positive(Field.VOCAB, vocabSize);
        positive(Field.HIDDEN, hidden);
        positive(Field.LAYERS, layers);
        positive(Field.CONTEXT, contextLength);
        check(normEps > 0 && normEps < 1, Field.NORM_EPS, normEps, "must be in (0, 1)");
        if (dense.layers() != null && dense.layers().length != layers)
            throw new IllegalArgumentException("dense layer list of " + dense.layers().length + " for " + layers + " layers");
        if (attention.slidingLayers() != null && attention.slidingLayers().length != layers)
            throw new IllegalArgumentException("sliding layer list of " + attention.slidingLayers().length + " for " + layers + " layers");
        architecture.validate(attention, moe);
    }

    static void positive(Field f, long value) {
        check(value > 0, f, value, "must be positive");
    }

    static void check(boolean ok, Field f, Object value, String rule) {
        if (!ok) throw new Invalid(f, value, rule);
    }

    // The most used sizes, without naming their part.
    public int heads() { return attention.heads(); }
    public int kvHeads() { return attention.kvHeads(); }
    public int headDim() { return attention.headDim(); }
    public double ropeTheta() { return attention.ropeTheta(); }
    public RopeStyle ropeStyle() { return attention.ropeStyle(); }
    public RopeScaling ropeScaling() { return attention.ropeScaling(); }
    public int experts() { return moe.experts(); }
    public int topK() { return moe.topK(); }
    public int expertFfn() { return moe.expertFfn(); }
    public boolean renormalizeTopK() { return moe.renormalize(); }
    public int sharedExpertFfn() { return moe.sharedFfn(); }
    public boolean sharedExpertGated() { return moe.sharedGated(); }
    public int denseFfn() { return dense.ffn(); }

    public int qDim() { return heads() * headDim(); }
    public int kvDim() { return kvHeads() * headDim(); }
    public boolean isDense(int layer) { return dense.layers() != null && dense.layers()[layer]; }
}
