package dev.moe4j.model;

/**
 * Hyper-parameters of an MoE transformer, whichever file they came from.
 *
 * @param denseLayers   layers whose feed-forward is a dense SwiGLU MLP of width {@code denseFfn} (e.g. Qwen's
 *                      {@code mlp_only_layers}); all other layers are MoE layers
 */
public record ModelConfig(
        Architecture architecture,
        int vocabSize,
        int hidden,
        int layers,
        int heads,
        int kvHeads,
        int headDim,
        int contextLength,
        float normEps,
        double ropeTheta,
        RopeStyle ropeStyle,
        int experts,
        int topK,
        int expertFfn,
        boolean renormalizeTopK,
        int sharedExpertFfn,
        boolean sharedExpertGated,
        int denseFfn,
        boolean[] denseLayers,
        boolean tiedEmbeddings,
        Extras extras) {

    /** Options only some families use; {@link #NONE} for the plain ones. */
    public record Extras(
            /** expert groups and how many the router keeps (DeepSeek); 1 and 1 when ungrouped */
            int groups, int groupsKept,
            /** factor on the routed experts' weights (DeepSeek's routed_scaling_factor) */
            float routedScale,
            /** multi-head latent attention dimensions, or null */
            Mla mla,
            /** window of sliding-window layers (GPT-OSS), and which layers slide */
            int slidingWindow, boolean[] slidingLayers,
            /** clamped SwiGLU of GPT-OSS experts: alpha and limit (0 when unused) */
            float swigluAlpha, float swigluLimit) {
        public static final Extras NONE = new Extras(1, 1, 1f, null, 0, null, 0f, 0f);

        public boolean slides(int layer) {
            return slidingLayers != null && slidingLayers[layer];
        }

        void check(int experts, int topK, int layers) {
            ModelConfig.check(groups >= 1 && experts % groups == 0, Field.GROUPS, groups, "must divide the " + experts + " experts");
            ModelConfig.check(groupsKept >= 1 && groupsKept <= groups, Field.GROUPS_KEPT, groupsKept, "must be in [1, " + groups + "]");
            int eligible = groupsKept * (experts / groups);
            ModelConfig.check(topK <= eligible, Field.TOP_K, topK, "must be at most the " + eligible + " experts of the groups kept");
            ModelConfig.check(routedScale > 0 && routedScale < Float.POSITIVE_INFINITY, Field.ROUTED_SCALE, routedScale,
                    "must be a finite number > 0");
            if (mla != null) mla.check();
            if (slidingLayers != null) {
                if (slidingLayers.length != layers)
                    throw new IllegalArgumentException("sliding layer list of " + slidingLayers.length + " for " + layers + " layers");
                for (boolean s : slidingLayers) if (s) positive(Field.SLIDING_WINDOW, slidingWindow);
            }
            ModelConfig.check(swigluLimit >= 0 && swigluLimit < Float.POSITIVE_INFINITY && swigluAlpha >= 0
                    && swigluAlpha < Float.POSITIVE_INFINITY, Field.SWIGLU_LIMIT, swigluLimit, "must be a finite number >= 0");
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

    /** A config without family-specific extras. */
    public ModelConfig(Architecture architecture, int vocabSize, int hidden, int layers, int heads, int kvHeads, int headDim,
                       int contextLength, float normEps, double ropeTheta, RopeStyle ropeStyle, int experts, int topK,
                       int expertFfn, boolean renormalizeTopK, int sharedExpertFfn, boolean sharedExpertGated, int denseFfn,
                       boolean[] denseLayers, boolean tiedEmbeddings) {
        this(architecture, vocabSize, hidden, layers, heads, kvHeads, headDim, contextLength, normEps, ropeTheta, ropeStyle,
                experts, topK, expertFfn, renormalizeTopK, sharedExpertFfn, sharedExpertGated, denseFfn, denseLayers,
                tiedEmbeddings, Extras.NONE);
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
        if (extras == null) extras = Extras.NONE;
        positive(Field.VOCAB, vocabSize);
        positive(Field.HIDDEN, hidden);
        positive(Field.LAYERS, layers);
        positive(Field.HEADS, heads);
        check(kvHeads > 0 && heads % kvHeads == 0, Field.KV_HEADS, kvHeads, "must divide the " + heads + " attention heads");
        check(headDim > 0 && headDim % 2 == 0, Field.HEAD_DIM, headDim, "must be positive and even");
        positive(Field.CONTEXT, contextLength);
        check(normEps > 0 && normEps < 1, Field.NORM_EPS, normEps, "must be in (0, 1)");
        check(ropeTheta > 1 && ropeTheta < Double.POSITIVE_INFINITY, Field.ROPE_THETA, ropeTheta, "must be a finite number > 1");
        positive(Field.EXPERTS, experts);
        check(topK > 0 && topK <= experts, Field.TOP_K, topK, "must be in [1, " + experts + "] (the expert count)");
        positive(Field.EXPERT_FFN, expertFfn);
        check(sharedExpertFfn >= 0, Field.SHARED_FFN, sharedExpertFfn, "must not be negative");
        if (denseLayers == null) denseLayers = new boolean[layers];
        if (denseLayers.length != layers) throw new IllegalArgumentException("dense layer list of " + denseLayers.length + " for " + layers + " layers");
        for (boolean dense : denseLayers) if (dense) positive(Field.DENSE_FFN, denseFfn);
        extras.check(experts, topK, layers);
        architecture.validate(extras);   // the record's fields are not assigned yet: pass what the family checks
    }

    private static void positive(Field f, long value) {
        check(value > 0, f, value, "must be positive");
    }

    static void check(boolean ok, Field f, Object value, String rule) {
        if (!ok) throw new Invalid(f, value, rule);
    }

    public int qDim() { return heads * headDim; }
    public int kvDim() { return kvHeads * headDim; }
    public boolean isDense(int layer) { return denseLayers[layer]; }
}
