package dev.moe4j.train.export;

import dev.moe4j.model.Architecture;
import dev.moe4j.train.ModelSpec;
import dev.moe4j.train.RouterSpec;
import dev.moe4j.util.Moe4jException;

/**
 * Which published architecture a trained model is written as. Mixtral when the experts' weights are a renormalised
 * softmax over the top k and there is no shared expert; otherwise Qwen2-MoE, whose {@code norm_topk_prob} says
 * whether to renormalise and whose shared expert carries a sigmoid gate (exported as a zero gate, i.e. a constant
 * ½, with the shared down projection doubled, which is exactly the ungated shared expert trained here).
 */
public enum Layout {
    MIXTRAL(Architecture.MIXTRAL), QWEN2_MOE(Architecture.QWEN2_MOE);

    private final Architecture architecture;

    Layout(Architecture architecture) {
        this.architecture = architecture;
    }

    /** Core's description of the family: its tensor names and config fields. */
    public Architecture architecture() {
        return architecture;
    }

    public static Layout of(ModelSpec s) {
        RouterSpec r = s.router();
        if (!s.dense() && r.kind() != RouterSpec.Kind.SOFTMAX && r.kind() != RouterSpec.Kind.NOISY) {
            throw new Moe4jException("cannot export a model routed by " + r.describe() + ": Mixtral and Qwen2-MoE route by "
                    + "softmax top-k (train with --router softmax or noisy to export)");
        }
        boolean renorm = s.dense() || r.kind() == RouterSpec.Kind.NOISY || r.renormalize();
        return renorm && s.sharedFfn() == 0 ? MIXTRAL : QWEN2_MOE;
    }

    /** Whether inference renormalises the kept top-k weights (noisy top-k without noise is a renormalised softmax). */
    public static boolean renormalize(ModelSpec s) {
        return s.dense() || s.router().kind() == RouterSpec.Kind.NOISY || s.router().renormalize();
    }

    /** Qwen2-MoE always has a shared expert; a model without one gets a zero expert of width 1 (adds nothing). */
    public static int sharedWidth(ModelSpec s) {
        return Math.max(1, s.sharedFfn());
    }
}
