package dev.moe4j.train;

/**
 * How tokens are routed during training.
 *
 * @param kind           scoring and selection rule
 * @param capacityFactor expert capacity {@code ceil(k · factor · T / N)} with token dropping; 0 means dropless
 * @param renormalize    softmax kinds: renormalise the kept weights to sum to one (Mixtral); sigmoid always does
 * @param biasRate       sigmoid kind: step γ of the loss-free balancing bias update (0 turns it off)
 */
public record RouterSpec(Kind kind, double capacityFactor, boolean renormalize, double biasRate) {

    public enum Kind {
        /** softmax over experts, top-k (Switch, Mixtral). */
        SOFTMAX,
        /** top-k of {@code logits + N(0,1)·softplus(x·W_noise)}, softmax over the kept (Shazeer 2017). */
        NOISY,
        /** sigmoid scores, top-k on scores + a bias updated without a loss (DeepSeek-V3). */
        SIGMOID_BIAS,
        /** each expert picks its top tokens (Zhou 2022); not causal. */
        EXPERT_CHOICE
    }

    public RouterSpec {
        if (kind == null) throw new IllegalArgumentException("invalid router: none given");
        Check.atLeast("capacity-factor", capacityFactor, 0);
        Check.atLeast("bias-rate", biasRate, 0);
        if (kind == Kind.EXPERT_CHOICE && capacityFactor == 0) capacityFactor = 1.0;
    }

    public static RouterSpec softmax(boolean renormalize) { return new RouterSpec(Kind.SOFTMAX, 0, renormalize, 0); }

    public static RouterSpec noisy() { return new RouterSpec(Kind.NOISY, 0, true, 0); }

    public static RouterSpec sigmoidBias(double rate) { return new RouterSpec(Kind.SIGMOID_BIAS, 0, true, rate); }

    public static RouterSpec expertChoice(double factor) { return new RouterSpec(Kind.EXPERT_CHOICE, factor, false, 0); }

    public RouterSpec withCapacity(double factor) { return new RouterSpec(kind, factor, renormalize, biasRate); }

    /** Parses the CLI names: softmax, noisy, sigmoid (loss-free bias), expert-choice. */
    public static RouterSpec parse(String name, int topK) {
        return switch (name) {
            case "softmax" -> softmax(topK > 1);
            case "noisy" -> noisy();
            case "sigmoid", "sigmoid-bias", "loss-free" -> sigmoidBias(0.005);
            case "expert-choice" -> expertChoice(1.0);
            default -> throw InvalidSettingException.of("router", "'" + name + "'", "one of softmax, noisy, sigmoid, expert-choice");
        };
    }

    public String describe() {
        String s = switch (kind) {
            case SOFTMAX -> "softmax top-k" + (renormalize ? " (renormalised)" : "");
            case NOISY -> "noisy top-k";
            case SIGMOID_BIAS -> "sigmoid + loss-free bias (γ=" + biasRate + ")";
            case EXPERT_CHOICE -> "expert-choice";
        };
        return s + (capacityFactor > 0 ? ", capacity factor " + capacityFactor : ", dropless");
    }
}
