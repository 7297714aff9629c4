package dev.moe4j.train;

/**
 * The shape of a trainable MoE transformer (Mixtral-like: pre-norm blocks, RoPE "rotate half", SwiGLU experts).
 * {@code experts == 1} is a dense model: no router, the one expert is the MLP.
 *
 * @param sharedFfn width of an always-on shared expert added to every token (0: none)
 * @param causal    a causal language model (expert-choice routing is refused, since it looks at later tokens)
 */
public record ModelSpec(int vocab, int dim, int layers, int heads, int experts, int topK, int expertFfn, int sharedFfn,
                        int seqLen, double ropeTheta, double normEps, RouterSpec router, boolean causal) {

    public ModelSpec {
        need(vocab > 0, "vocab", vocab);
        need(dim > 0, "dim", dim);
        need(layers > 0, "layers", layers);
        need(heads > 0 && dim % heads == 0 && (dim / heads) % 2 == 0, "heads (dim/heads must be an even integer)", heads);
        need(experts > 0, "experts", experts);
        need(topK > 0 && topK <= experts, "top-k (1..experts)", topK);
        need(expertFfn > 0, "expert ffn width", expertFfn);
        need(sharedFfn >= 0, "shared expert width", sharedFfn);
        need(seqLen > 1, "sequence length", seqLen);
        if (causal && router.kind() == RouterSpec.Kind.EXPERT_CHOICE && experts > 1) {
            throw new IllegalArgumentException("expert-choice routing cannot train a causal language model: each expert picks "
                    + "its tokens from the whole batch, so a token's output would depend on tokens after it (use it for non-causal models)");
        }
    }

    private static void need(boolean ok, String what, int v) {
        if (!ok) throw new IllegalArgumentException("invalid " + what + ": " + v);
    }

    public int headDim() { return dim / heads; }

    public boolean dense() { return experts == 1; }

    /** The dense model of equal active compute: one MLP as wide as the k routed experts. */
    public ModelSpec denseTwin() {
        return new ModelSpec(vocab, dim, layers, heads, 1, 1, expertFfn * topK, sharedFfn, seqLen, ropeTheta, normEps,
                RouterSpec.softmax(false), causal);
    }

    public ModelSpec withRouter(RouterSpec r) {
        return new ModelSpec(vocab, dim, layers, heads, experts, topK, expertFfn, sharedFfn, seqLen, ropeTheta, normEps, r, causal);
    }

    public ModelSpec withVocab(int v) {
        return new ModelSpec(v, dim, layers, heads, experts, topK, expertFfn, sharedFfn, seqLen, ropeTheta, normEps, router, causal);
    }
}
