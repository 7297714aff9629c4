package dev.moe4j.model;

/**
 * Total parameters (every expert) and active parameters per token (only the k routed experts, plus
 * everything every token uses), computed from a config.
 */
public record ParameterCount(long total, long active) {

    public static ParameterCount of(ModelConfig c) {
        long d = c.hidden();
        long embed = (long) c.vocabSize() * d;
        long head = c.tiedEmbeddings() ? 0 : embed;
        long attn = d * c.qDim() + 2 * d * c.kvDim() + (long) c.qDim() * d;
        ModelConfig.Mla mla = c.attention().mla();
        if (mla != null) {
            long h = c.heads(), qk = mla.qkHeadDim();
            long q = mla.qLoraRank() > 0 ? d * mla.qLoraRank() + mla.qLoraRank() + (long) mla.qLoraRank() * h * qk : d * h * qk;
            attn = q + d * (mla.kvLoraRank() + mla.ropeDim()) + mla.kvLoraRank()
                    + (long) mla.kvLoraRank() * h * (mla.nopeDim() + mla.vDim()) + h * mla.vDim() * d;
        }
        attn += c.architecture().attentionExtraParameters(c);
        long qkNorm = switch (c.architecture().qkNorm) {
            case WHOLE -> c.qDim() + c.kvDim();
            case PER_HEAD -> 2L * c.headDim();
            case NONE -> 0;
        };
        long norms = 2 * d;
        long expert = 3 * d * c.expertFfn() + c.architecture().expertExtraParameters(c);
        long shared = c.sharedExpertFfn() == 0 ? 0 : 3 * d * c.sharedExpertFfn() + (c.sharedExpertGated() ? d : 0);
        long router = d * c.experts() + (c.architecture().routerHasBias() ? c.experts() : 0);
        long total = embed + head + d, active = embed + head + d;
        for (int l = 0; l < c.layers(); l++) {
            long common = attn + qkNorm + norms;
            if (c.isDense(l)) {
                long mlp = 3 * d * c.denseFfn();
                total += common + mlp;
                active += common + mlp;
            } else {
                total += common + router + shared + c.experts() * expert;
                active += common + router + shared + c.topK() * expert;
            }
        }
        return new ParameterCount(total, active);
    }

    /** "46.70 B" style. */
    public static String human(long n) {
        if (n >= 1_000_000_000L) return String.format("%.2f B", n / 1e9);
        if (n >= 1_000_000L) return String.format("%.2f M", n / 1e6);
        if (n >= 1_000L) return String.format("%.2f K", n / 1e3);
        return Long.toString(n);
    }
}
