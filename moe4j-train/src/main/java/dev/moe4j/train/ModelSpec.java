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

    /** Checks every field; names it as the {@code train} option and the checkpoint do. */
    public ModelSpec {
        Check.atLeast("vocab", vocab, 1);
        Check.atLeast("dim", dim, 2);
        Check.atLeast("layers", layers, 1);
        Check.atLeast("heads", heads, 1);
        if (dim % heads != 0 || (dim / heads) % 2 != 0) {
            throw new InvalidSettingException("heads", name -> "invalid " + name.apply("heads") + ": " + heads + " (" + name.apply("dim") + " "
                    + dim + " must split into " + heads + " heads of an even size: a multiple of " + 2 * heads + ")");
        }
        Check.atLeast("experts", experts, 1);
        if (topK < 1 || topK > experts) {
            throw new InvalidSettingException("top-k", name -> "invalid " + name.apply("top-k") + ": " + topK + " (must be 1.." + experts
                    + ", the " + name.apply("experts") + ")");
        }
        Check.atLeast("ffn", expertFfn, 1);
        Check.atLeast("shared-ffn", sharedFfn, 0);
        Check.atLeast("seq-len", seqLen, 2);
        Check.positive("rope-theta", ropeTheta);
        Check.positive("norm-eps", normEps);
        if (router == null) throw new IllegalArgumentException("invalid router: none given");
        if (causal && router.kind() == RouterSpec.Kind.EXPERT_CHOICE && experts > 1) {
            throw new IllegalArgumentException("expert-choice routing cannot train a causal language model: each expert picks "
                    + "its tokens from the whole batch, so a token's output would depend on tokens after it (use it for non-causal models)");
        }
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
