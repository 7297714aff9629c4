package dev.moe4j.model;

/**
 * A deliberately plain double-precision forward pass written from the Hugging Face definitions
 * (moe-math.md), independent of moe4j's blocks: the yardstick for shapes the reference files lack.
 */
final class NaiveReference {
    private final SyntheticModel m;
    private final NaiveRope rope;

    NaiveReference(SyntheticModel m) {
        this(m, NaiveRope.plain(m.theta, m.headDim));
    }

    /** With a scaled rotary embedding (all tokens in one forward call, as transformers runs a prompt). */
    NaiveReference(SyntheticModel m, NaiveRope rope) {
        this.m = m;
        this.rope = rope;
    }

    /** Logits [n, vocab] for the whole sequence. */
    double[][] forward(int[] ids) {
        int n = ids.length, d = m.hidden;
        double[][] x = new double[n][];
        for (int t = 0; t < n; t++) x[t] = row(m.w.get("model.embed_tokens.weight"), ids[t], d);
        for (int l = 0; l < m.layers; l++) {
            String p = "model.layers." + l + ".";
            double[][] h = new double[n][];
            for (int t = 0; t < n; t++) h[t] = rms(x[t], m.w.get(p + "input_layernorm.weight"));
            double[][] att = attention(p, h);
            for (int t = 0; t < n; t++) for (int i = 0; i < d; i++) x[t][i] += att[t][i];
            for (int t = 0; t < n; t++) {
                double[] hn = rms(x[t], m.w.get(p + "post_attention_layernorm.weight"));
                double[] y = moe(p + m.arch.hfMoeBlock + ".", l, hn);
                for (int i = 0; i < d; i++) x[t][i] += y[i];
            }
        }
        double[][] logits = new double[n][];
        for (int t = 0; t < n; t++) logits[t] = linear(m.w.get("lm_head.weight"), rms(x[t], m.w.get("model.norm.weight")), m.vocab);
        return logits;
    }

    private double[][] attention(String p, double[][] h) {
        int n = h.length, hd = m.headDim, group = m.heads / m.kvHeads;
        double[][] q = new double[n][], k = new double[n][], v = new double[n][];
        double[] inv = rope.invFreq(n);
        for (int t = 0; t < n; t++) {
            q[t] = addBias(linear(m.w.get(p + "self_attn.q_proj.weight"), h[t], m.heads * hd), m.w.get(p + "self_attn.q_proj.bias"));
            k[t] = addBias(linear(m.w.get(p + "self_attn.k_proj.weight"), h[t], m.kvHeads * hd), m.w.get(p + "self_attn.k_proj.bias"));
            v[t] = addBias(linear(m.w.get(p + "self_attn.v_proj.weight"), h[t], m.kvHeads * hd), m.w.get(p + "self_attn.v_proj.bias"));
            switch (m.arch.qkNorm) {
                case WHOLE -> { q[t] = rms(q[t], m.w.get(p + "self_attn.q_norm.weight")); k[t] = rms(k[t], m.w.get(p + "self_attn.k_norm.weight")); }
                case PER_HEAD -> { perHeadRms(q[t], m.w.get(p + "self_attn.q_norm.weight")); perHeadRms(k[t], m.w.get(p + "self_attn.k_norm.weight")); }
                case NONE -> { }
            }
            for (int hh = 0; hh < m.heads; hh++) NaiveRope.rotateHalf(q[t], hh * hd, hd, t, inv, rope.attentionScaling());
            for (int hh = 0; hh < m.kvHeads; hh++) NaiveRope.rotateHalf(k[t], hh * hd, hd, t, inv, rope.attentionScaling());
        }
        double[][] out = new double[n][];
        for (int t = 0; t < n; t++) {
            double[] o = new double[m.heads * hd];
            for (int hh = 0; hh < m.heads; hh++) {
                int kh = hh / group;
                double[] s = new double[t + 1];
                double max = Double.NEGATIVE_INFINITY, sum = 0;
                for (int j = 0; j <= t; j++) {
                    for (int i = 0; i < hd; i++) s[j] += q[t][hh * hd + i] * k[j][kh * hd + i];
                    s[j] /= Math.sqrt(hd);
                    max = Math.max(max, s[j]);
                }
                for (int j = 0; j <= t; j++) { s[j] = Math.exp(s[j] - max); sum += s[j]; }
                for (int j = 0; j <= t; j++) for (int i = 0; i < hd; i++) o[hh * hd + i] += s[j] / sum * v[j][kh * hd + i];
            }
            out[t] = linear(m.w.get(p + "self_attn.o_proj.weight"), o, m.hidden);
        }
        return out;
    }

    private double[] moe(String mp, int l, double[] x) {
        double[] logits = linear(m.w.get(mp + "gate.weight"), x, m.experts);
        double max = Double.NEGATIVE_INFINITY, sum = 0;
        for (double z : logits) max = Math.max(max, z);
        double[] prob = new double[m.experts];
        for (int e = 0; e < m.experts; e++) { prob[e] = Math.exp(logits[e] - max); sum += prob[e]; }
        for (int e = 0; e < m.experts; e++) prob[e] /= sum;
        boolean[] taken = new boolean[m.experts];
        int[] chosen = new int[m.topK];
        double kept = 0;
        for (int s = 0; s < m.topK; s++) {
            int best = -1;
            for (int e = 0; e < m.experts; e++) if (!taken[e] && (best < 0 || prob[e] > prob[best])) best = e;
            taken[best] = true;
            chosen[s] = best;
            kept += prob[best];
        }
        double[] y = new double[m.hidden];
        for (int e : chosen) {
            double wgt = m.renormalize ? prob[e] / kept : prob[e];
            double[] o = swiglu(m.w.get(m.expertName(l, e, m.arch.hfGate)), m.w.get(m.expertName(l, e, m.arch.hfUp)),
                    m.w.get(m.expertName(l, e, m.arch.hfDown)), x, m.ffn);
            for (int i = 0; i < m.hidden; i++) y[i] += wgt * o[i];
        }
        if (m.sharedFfn > 0) {
            double[] o = swiglu(m.w.get(mp + "shared_expert.gate_proj.weight"), m.w.get(mp + "shared_expert.up_proj.weight"),
                    m.w.get(mp + "shared_expert.down_proj.weight"), x, m.sharedFfn);
            double g = 1 / (1 + Math.exp(-linear(m.w.get(mp + "shared_expert_gate.weight"), x, 1)[0]));
            for (int i = 0; i < m.hidden; i++) y[i] += g * o[i];
        }
        return y;
    }

    private double[] swiglu(float[] gate, float[] up, float[] down, double[] x, int f) {
        double[] g = linear(gate, x, f), u = linear(up, x, f);
        for (int i = 0; i < f; i++) g[i] = g[i] / (1 + Math.exp(-g[i])) * u[i];
        return linear(down, g, m.hidden);
    }

    private void perHeadRms(double[] v, float[] w) {
        int hd = m.headDim;
        for (int off = 0; off < v.length; off += hd) {
            double[] part = java.util.Arrays.copyOfRange(v, off, off + hd);
            System.arraycopy(rms(part, w), 0, v, off, hd);
        }
    }

    private static double[] rms(double[] x, float[] w) {
        double ss = 0;
        for (double v : x) ss += v * v;
        double inv = 1 / Math.sqrt(ss / x.length + 1e-5);
        double[] out = new double[x.length];
        for (int i = 0; i < x.length; i++) out[i] = x[i] * inv * w[i];
        return out;
    }

    private static double[] linear(float[] wt, double[] x, int rows) {
        double[] y = new double[rows];
        for (int r = 0; r < rows; r++) for (int c = 0; c < x.length; c++) y[r] += wt[r * x.length + c] * x[c];
        return y;
    }

    private static double[] addBias(double[] y, float[] b) {
        if (b != null) for (int i = 0; i < y.length; i++) y[i] += b[i];
        return y;
    }

    private static double[] row(float[] m, int r, int d) {
        double[] out = new double[d];
        for (int i = 0; i < d; i++) out[i] = m[r * d + i];
        return out;
    }
}
