package dev.moe4j.model;

import java.util.Arrays;

/**
 * How a checkpoint stretches its rotary embedding beyond the context it was trained on: the frequencies and the
 * factor on cos/sin exactly as Hugging Face's {@code modeling_rope_utils} (transformers 5) computes them. Each
 * {@link Type} is one of its {@code ROPE_INIT_FUNCTIONS}; the values are those of {@code rope_parameters} after
 * transformers' standardisation (defaults filled in).
 *
 * @param factor            the scaling factor ({@code factor}); 1 for {@link Type#NONE}
 * @param originalContext   {@code original_max_position_embeddings}: the pre-training context (yarn, llama3, longrope)
 * @param maxPositions      {@code max_position_embeddings} (dynamic's threshold)
 * @param attentionFactor   an explicit {@code attention_factor}, or NaN to derive it as transformers does
 * @param betaFast          yarn's {@code beta_fast} (32 when absent or 0)
 * @param betaSlow          yarn's {@code beta_slow} (1 when absent or 0)
 * @param mscale            yarn's {@code mscale} (0 when absent)
 * @param mscaleAllDim      yarn's {@code mscale_all_dim} (0 when absent); DeepSeek-V3 also scales its softmax by it
 * @param truncate          yarn's {@code truncate}: correction range rounded to whole dimensions (gpt-oss: false)
 * @param lowFreqFactor     llama3's {@code low_freq_factor}
 * @param highFreqFactor    llama3's {@code high_freq_factor}
 * @param shortFactor       longrope's per-frequency divisors within the original context ({@code dim/2} values)
 * @param longFactor        longrope's divisors beyond it
 */
public record RopeScaling(Type type, double factor, int originalContext, int maxPositions, double attentionFactor,
                          double betaFast, double betaSlow, double mscale, double mscaleAllDim, boolean truncate,
                          double lowFreqFactor, double highFreqFactor, double[] shortFactor, double[] longFactor) {

    /** transformers' {@code rope_type} values. */
    public enum Type {
        NONE("default"), LINEAR("linear"), DYNAMIC("dynamic"), YARN("yarn"), LLAMA3("llama3"), LONGROPE("longrope");

        /** The name in config.json ({@code rope_type}). */
        public final String hfName;

        Type(String hfName) {
            this.hfName = hfName;
        }

        public static Type fromHf(String name) {
            for (Type t : values()) if (t.hfName.equals(name)) return t;
            return null;
        }
    }

    /** No scaling: the plain rotary embedding. */
    public static final RopeScaling NONE = new RopeScaling(Type.NONE, 1, 0, 0, Double.NaN, 32, 1, 0, 0, true, 0, 0, null, null);

    public static RopeScaling linear(double factor) {
        return new RopeScaling(Type.LINEAR, factor, 0, 0, Double.NaN, 32, 1, 0, 0, true, 0, 0, null, null);
    }

    public static RopeScaling dynamic(double factor, int maxPositions) {
        return new RopeScaling(Type.DYNAMIC, factor, 0, maxPositions, Double.NaN, 32, 1, 0, 0, true, 0, 0, null, null);
    }

    public static RopeScaling yarn(double factor, int originalContext, double attentionFactor, double betaFast, double betaSlow,
                                   double mscale, double mscaleAllDim, boolean truncate) {
        return new RopeScaling(Type.YARN, factor, originalContext, 0, attentionFactor, betaFast, betaSlow, mscale, mscaleAllDim,
                truncate, 0, 0, null, null);
    }

    public static RopeScaling llama3(double factor, int originalContext, double lowFreqFactor, double highFreqFactor) {
        return new RopeScaling(Type.LLAMA3, factor, originalContext, 0, Double.NaN, 32, 1, 0, 0, true, lowFreqFactor,
                highFreqFactor, null, null);
    }

    public static RopeScaling longrope(double factor, int originalContext, double attentionFactor, double[] shortFactor,
                                       double[] longFactor) {
        return new RopeScaling(Type.LONGROPE, factor, originalContext, 0, attentionFactor, 32, 1, 0, 0, true, 0, 0,
                shortFactor.clone(), longFactor.clone());
    }

    /** Whether the frequencies depend on the length of the sequence so far (dynamic, longrope). */
    public boolean dependsOnLength() {
        return type == Type.DYNAMIC || type == Type.LONGROPE;
    }

    /**
     * The factor on cos and sin (transformers' {@code attention_scaling}), so q·k of the rotated parts grows by its
     * square. yarn: {@code get_mscale(factor, mscale) / get_mscale(factor, mscale_all_dim)} when both are set, else
     * {@code get_mscale(factor)}, with {@code get_mscale(s, m) = 0.1·m·ln s + 1} (1 for s ≤ 1); longrope:
     * {@code sqrt(1 + ln factor / ln original)} (1 for factor ≤ 1); an explicit {@code attention_factor} wins.
     */
    public double cosSinFactor() {
        if (!Double.isNaN(attentionFactor)) return attentionFactor;
        return switch (type) {
            case YARN -> mscale != 0 && mscaleAllDim != 0 ? yarnMscale(factor, mscale) / yarnMscale(factor, mscaleAllDim)
                    : yarnMscale(factor, 1);
            case LONGROPE -> factor <= 1 ? 1 : Math.sqrt(1 + Math.log(factor) / Math.log(originalContext));
            default -> 1;
        };
    }

    /** YaRN's magnitude scale {@code 0.1·m·ln(scale) + 1}, 1 for scale ≤ 1 (transformers' {@code get_mscale}). */
    public static double yarnMscale(double scale, double m) {
        return scale <= 1 ? 1 : 0.1 * m * Math.log(scale) + 1;
    }

    /**
     * The inverse frequencies of a rotary embedding over {@code dim} values with base {@code theta}, for a pass whose
     * last position is {@code seqLen - 1} ({@code dim / 2} values; seqLen matters for dynamic and longrope only).
     */
    public double[] inverseFrequencies(double theta, int dim, int seqLen) {
        int half = dim / 2;
        double[] inv = new double[half];
        double base = type == Type.DYNAMIC ? dynamicBase(theta, dim, seqLen) : theta;
        for (int i = 0; i < half; i++) inv[i] = 1.0 / Math.pow(base, (2.0 * i) / dim);
        switch (type) {
            case NONE, DYNAMIC -> { }
            case LINEAR -> { for (int i = 0; i < half; i++) inv[i] /= factor; }
            case YARN -> yarn(inv, theta, dim);
            case LLAMA3 -> llama3(inv);
            case LONGROPE -> {
                double[] ext = seqLen > originalContext ? longFactor : shortFactor;
                for (int i = 0; i < half; i++) inv[i] /= ext[i];
            }
        }
        return inv;
    }

    /** Dynamic NTK: the base grows once the sequence passes max_position_embeddings. */
    double dynamicBase(double theta, int dim, int seqLen) {
        double len = Math.max(seqLen, maxPositions);
        return theta * Math.pow(factor * len / maxPositions - (factor - 1), (double) dim / (dim - 2));
    }

    /** YaRN: interpolated (÷ factor) below the correction range, extrapolated above, a linear ramp between. */
    private void yarn(double[] inv, double theta, int dim) {
        double low = correctionDim(betaFast, dim, theta), high = correctionDim(betaSlow, dim, theta);
        if (truncate) {
            low = Math.floor(low);
            high = Math.ceil(high);
        }
        low = Math.max(low, 0);
        high = Math.min(high, dim - 1);
        if (low == high) high += 0.001;   // as transformers: no division by zero
        for (int i = 0; i < inv.length; i++) {
            double ramp = Math.min(1, Math.max(0, (i - low) / (high - low)));
            double extrapolation = 1 - ramp;
            inv[i] = inv[i] / factor * (1 - extrapolation) + inv[i] * extrapolation;
        }
    }

    /** The dimension at which a frequency turns {@code rotations} times over the original context. */
    private double correctionDim(double rotations, int dim, double theta) {
        return dim * Math.log(originalContext / (rotations * 2 * Math.PI)) / (2 * Math.log(theta));
    }

    /** Llama 3.1: long wavelengths ÷ factor, short ones kept, a smooth blend between. */
    private void llama3(double[] inv) {
        double lowWavelen = originalContext / lowFreqFactor, highWavelen = originalContext / highFreqFactor;
        for (int i = 0; i < inv.length; i++) {
            double wavelen = 2 * Math.PI / inv[i];
            if (wavelen > lowWavelen) {
                inv[i] /= factor;
            } else if (wavelen >= highWavelen) {
                double smooth = (originalContext / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
                inv[i] = (1 - smooth) * inv[i] / factor + smooth * inv[i];
            }
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RopeScaling r && type == r.type && factor == r.factor && originalContext == r.originalContext
                && maxPositions == r.maxPositions && Double.compare(attentionFactor, r.attentionFactor) == 0
                && betaFast == r.betaFast && betaSlow == r.betaSlow && mscale == r.mscale && mscaleAllDim == r.mscaleAllDim
                && truncate == r.truncate && lowFreqFactor == r.lowFreqFactor && highFreqFactor == r.highFreqFactor
                && Arrays.equals(shortFactor, r.shortFactor) && Arrays.equals(longFactor, r.longFactor);
    }

    @Override
    public int hashCode() {
        return java.util.Objects.hash(type, factor, originalContext, maxPositions, attentionFactor, betaFast, betaSlow, mscale,
                mscaleAllDim, truncate, lowFreqFactor, highFreqFactor) * 31 + Arrays.hashCode(shortFactor) * 7 + Arrays.hashCode(longFactor);
    }

    @Override
    public String toString() {
        return switch (type) {
            case NONE -> "none";
            case LINEAR -> "linear ×" + factor;
            case DYNAMIC -> "dynamic ×" + factor;
            case YARN -> "yarn ×" + factor + " from " + originalContext;
            case LLAMA3 -> "llama3 ×" + factor + " from " + originalContext;
            case LONGROPE -> "longrope ×" + factor + " from " + originalContext;
        };
    }
}
