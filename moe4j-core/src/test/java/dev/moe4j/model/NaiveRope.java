package dev.moe4j.model;

/**
 * Rotary frequencies and the cos/sin factor of each rope type, transcribed line by line from transformers 5's
 * {@code modeling_rope_utils} ({@code _compute_*_parameters}) in double precision, independent of {@link RopeScaling}:
 * the yardstick of the scaled-rope tests.
 */
interface NaiveRope {
    /** inv_freq for a forward call whose position ids end at {@code seqLen - 1}. */
    double[] invFreq(int seqLen);

    /** attention_scaling, the factor on cos and sin. */
    double attentionScaling();

    private static double[] defaultInv(double base, int dim) {
        double[] inv = new double[dim / 2];
        for (int k = 0, i = 0; k < dim; k += 2, i++) inv[i] = 1.0 / Math.pow(base, (double) k / dim);
        return inv;
    }

    static NaiveRope plain(double base, int dim) {
        return of(defaultInv(base, dim), 1.0);
    }

    static NaiveRope of(double[] inv, double scaling) {
        return new NaiveRope() {
            public double[] invFreq(int seqLen) { return inv; }
            public double attentionScaling() { return scaling; }
        };
    }

    static NaiveRope linear(double base, int dim, double factor) {
        double[] inv = defaultInv(base, dim);
        for (int i = 0; i < inv.length; i++) inv[i] /= factor;
        return of(inv, 1.0);
    }

    /** Dynamic NTK; seq_len is the current call's, floored at max_position_embeddings. */
    static NaiveRope dynamic(double base, int dim, double factor, int maxPositionEmbeddings) {
        return new NaiveRope() {
            public double[] invFreq(int seqLen) {
                int len = Math.max(seqLen, maxPositionEmbeddings);
                double b = base * Math.pow((factor * len / maxPositionEmbeddings) - (factor - 1), (double) dim / (dim - 2));
                return defaultInv(b, dim);
            }
            public double attentionScaling() { return 1.0; }
        };
    }

    private static double getMscale(double scale, double mscale) {
        if (scale <= 1) return 1.0;
        return 0.1 * mscale * Math.log(scale) + 1.0;
    }

    private static double findCorrectionDim(double numRotations, int dim, double base, int maxPos) {
        return (dim * Math.log(maxPos / (numRotations * 2 * Math.PI))) / (2 * Math.log(base));
    }

    /** YaRN; {@code attentionFactor}, {@code mscale}, {@code mscaleAllDim} null when the config lacks them. */
    static NaiveRope yarn(double base, int dim, double factor, int originalMax, Double attentionFactor, double betaFast,
                          double betaSlow, Double mscale, Double mscaleAllDim, boolean truncate) {
        double af;
        if (attentionFactor != null) af = attentionFactor;
        else if (mscale != null && mscale != 0 && mscaleAllDim != null && mscaleAllDim != 0) af = getMscale(factor, mscale) / getMscale(factor, mscaleAllDim);
        else af = getMscale(factor, 1);
        double low = findCorrectionDim(betaFast, dim, base, originalMax), high = findCorrectionDim(betaSlow, dim, base, originalMax);
        if (truncate) { low = Math.floor(low); high = Math.ceil(high); }
        low = Math.max(low, 0);
        high = Math.min(high, dim - 1);
        if (low == high) high += 0.001;
        double[] inv = new double[dim / 2];
        for (int k = 0, i = 0; k < dim; k += 2, i++) {
            double posFreq = Math.pow(base, (double) k / dim);
            double extrapolation = 1.0 / posFreq, interpolation = 1.0 / (factor * posFreq);
            double ramp = Math.min(1, Math.max(0, (i - low) / (high - low)));
            double extrapolationFactor = 1 - ramp;
            inv[i] = interpolation * (1 - extrapolationFactor) + extrapolation * extrapolationFactor;
        }
        return of(inv, af);
    }

    static NaiveRope llama3(double base, int dim, double factor, double lowFreqFactor, double highFreqFactor, int oldContextLen) {
        double[] inv = defaultInv(base, dim), out = new double[inv.length];
        double lowFreqWavelen = oldContextLen / lowFreqFactor, highFreqWavelen = oldContextLen / highFreqFactor;
        for (int i = 0; i < inv.length; i++) {
            double wavelen = 2 * Math.PI / inv[i];
            double llama = wavelen > lowFreqWavelen ? inv[i] / factor : inv[i];
            double smooth = (oldContextLen / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
            double smoothed = (1 - smooth) * llama / factor + smooth * llama;
            boolean medium = !(wavelen < highFreqWavelen) && !(wavelen > lowFreqWavelen);
            out[i] = medium ? smoothed : llama;
        }
        return of(out, 1.0);
    }

    /** LongRoPE: long factors once the sequence passes the original context; factor null when the config lacks it. */
    static NaiveRope longrope(double base, int dim, double[] shortFactor, double[] longFactor, Double factor, int originalMax,
                              int maxPositionEmbeddings) {
        double f = factor != null ? factor : (double) maxPositionEmbeddings / originalMax;
        double af = f <= 1.0 ? 1.0 : Math.sqrt(1 + Math.log(f) / Math.log(originalMax));
        return new NaiveRope() {
            public double[] invFreq(int seqLen) {
                double[] ext = seqLen > originalMax ? longFactor : shortFactor;
                double[] inv = new double[dim / 2];
                for (int k = 0, i = 0; k < dim; k += 2, i++) inv[i] = 1.0 / (ext[i] * Math.pow(base, (double) k / dim));
                return inv;
            }
            public double attentionScaling() { return af; }
        };
    }

    /** Rotate-half RoPE of v[off .. off + dim) at position pos with these frequencies and factor. */
    static void rotateHalf(double[] v, int off, int dim, int pos, double[] inv, double scaling) {
        int half = dim / 2;
        for (int i = 0; i < half; i++) {
            double a = pos * inv[i], c = Math.cos(a) * scaling, s = Math.sin(a) * scaling;
            double x0 = v[off + i], x1 = v[off + i + half];
            v[off + i] = x0 * c - x1 * s;
            v[off + i + half] = x1 * c + x0 * s;
        }
    }
}
