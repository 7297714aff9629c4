package dev.moe4j.train;

import dev.moe4j.kernel.Parallel;

/**
 * Causal multi-head self-attention over {@code b} sequences of {@code t} tokens, and RoPE in Hugging Face's
 * "rotate half" layout (pairs i and i + headDim/2). Rows of q/k/v are {@code seq · t + pos}; head h owns
 * columns {@code [h·hd, (h+1)·hd)}.
 */
final class AttentionOps {
    private AttentionOps() {}

    /** cos and sin tables {@code [t, hd/2]} for positions 0..t-1. */
    static double[][] ropeTables(int t, int hd, double theta) {
        int half = hd / 2;
        double[] cos = new double[t * half], sin = new double[t * half];
        for (int p = 0; p < t; p++) {
            for (int i = 0; i < half; i++) {
                double a = p * (1.0 / Math.pow(theta, (2.0 * i) / hd));
                cos[p * half + i] = Math.cos(a);
                sin[p * half + i] = Math.sin(a);
            }
        }
        return new double[][] {cos, sin};
    }

    /** Rotates every head of every row in place; {@code inverse} applies the transpose (the backward pass). */
    static void rope(double[] x, int rows, int t, int dim, int hd, double[][] tab, boolean inverse) {
        int half = hd / 2;
        double sign = inverse ? -1 : 1;
        for (int r = 0; r < rows; r++) {
            int p = r % t;
            for (int h = 0; h < dim / hd; h++) {
                int o = r * dim + h * hd;
                for (int i = 0; i < half; i++) {
                    double c = tab[0][p * half + i], s = sign * tab[1][p * half + i];
                    double x0 = x[o + i], x1 = x[o + i + half];
                    x[o + i] = x0 * c - x1 * s;
                    x[o + i + half] = x1 * c + x0 * s;
                }
            }
        }
    }

    /** out = softmax(q·kᵀ/√hd, causal) · v; returns the probabilities {@code [b, heads, t, t]} for backward. */
    static double[] forward(double[] q, double[] k, double[] v, int b, int t, int dim, int heads, double[] out) {
        int hd = dim / heads;
        double scale = 1.0 / Math.sqrt(hd);
        double[] probs = new double[b * heads * t * t];
        Parallel.forRange(b * heads, (long) t * t * hd, bh -> {
            int seq = bh / heads, h = bh % heads, base = bh * t * t;
            for (int i = 0; i < t; i++) {
                int qo = (seq * t + i) * dim + h * hd, po = base + i * t;
                double max = Double.NEGATIVE_INFINITY;
                for (int j = 0; j <= i; j++) {
                    double s = Ops.dot(q, qo, k, (seq * t + j) * dim + h * hd, hd) * scale;
                    probs[po + j] = s;
                    max = Math.max(max, s);
                }
                double sum = 0;
                for (int j = 0; j <= i; j++) sum += probs[po + j] = Math.exp(probs[po + j] - max);
                for (int j = 0; j <= i; j++) probs[po + j] /= sum;
                java.util.Arrays.fill(out, qo, qo + hd, 0);
                for (int j = 0; j <= i; j++) Ops.axpy(probs[po + j], v, (seq * t + j) * dim + h * hd, out, qo, hd);
            }
        });
        return probs;
    }

    /** Accumulates dq, dk, dv from dout. Each (sequence, head) pair writes only its own columns. */
    static void backward(double[] dout, double[] q, double[] k, double[] v, double[] probs, int b, int t, int dim, int heads,
                         double[] dq, double[] dk, double[] dv) {
        int hd = dim / heads;
        double scale = 1.0 / Math.sqrt(hd);
        Parallel.forRange(b * heads, (long) t * t * hd * 2, bh -> {
            int seq = bh / heads, h = bh % heads, base = bh * t * t;
            double[] dp = new double[t];
            for (int i = 0; i < t; i++) {
                int qo = (seq * t + i) * dim + h * hd, po = base + i * t;
                double sum = 0;
                for (int j = 0; j <= i; j++) {
                    int vo = (seq * t + j) * dim + h * hd;
                    dp[j] = Ops.dot(dout, qo, v, vo, hd);
                    Ops.axpy(probs[po + j], dout, qo, dv, vo, hd);
                    sum += dp[j] * probs[po + j];
                }
                for (int j = 0; j <= i; j++) {
                    double ds = probs[po + j] * (dp[j] - sum) * scale;
                    int ko = (seq * t + j) * dim + h * hd;
                    Ops.axpy(ds, k, ko, dq, qo, hd);
                    Ops.axpy(ds, q, qo, dk, ko, hd);
                }
            }
        });
    }
}
