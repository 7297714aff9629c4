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
        boolean tiedEmbeddings) {

    public ModelConfig {
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
