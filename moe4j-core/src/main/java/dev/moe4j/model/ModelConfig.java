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
    }

    /** DeepSeek's multi-head latent attention: q low-rank (0 = none), kv latent rank, per-head dims. */
    public record Mla(int qLoraRank, int kvLoraRank, int nopeDim, int ropeDim, int vDim) {
        public int qkHeadDim() { return nopeDim + ropeDim; }
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

    public ModelConfig {
        if (extras == null) extras = Extras.NONE;
        check(vocabSize > 0, "vocab_size", vocabSize);
        check(hidden > 0, "hidden_size", hidden);
        check(layers > 0, "num_hidden_layers", layers);
        check(heads > 0, "num_attention_heads", heads);
        check(kvHeads > 0 && heads % kvHeads == 0, "num_key_value_heads (must divide num_attention_heads)", kvHeads);
        check(headDim > 0 && headDim % 2 == 0, "head_dim (must be even)", headDim);
        check(experts > 0, "number of experts", experts);
        check(topK > 0 && topK <= experts, "experts per token (top-k, at most the number of experts)", topK);
        check(expertFfn > 0, "expert intermediate size", expertFfn);
        if (denseLayers == null) denseLayers = new boolean[layers];
        check(denseLayers.length == layers, "dense layer list length", denseLayers.length);
    }

    private static void check(boolean ok, String field, long value) {
        if (!ok) throw new IllegalArgumentException("invalid " + field + ": " + value);
    }

    public int qDim() { return heads * headDim; }
    public int kvDim() { return kvHeads * headDim; }
    public boolean isDense(int layer) { return denseLayers[layer]; }
}
