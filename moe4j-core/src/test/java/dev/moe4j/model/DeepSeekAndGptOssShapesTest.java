package dev.moe4j.model;

import dev.moe4j.format.gguf.GgufQuantizer;
import dev.moe4j.tensor.DType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

import static dev.moe4j.model.HfCheckpoints.Ds;
import static dev.moe4j.model.HfCheckpoints.Oss;
import static dev.moe4j.model.NaiveMath.*;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * DeepSeek-V3 and GPT-OSS checkpoints in shapes the references lack (no q low-rank path, one expert group,
 * other head counts, windows and expert counts), against independent double-precision forward passes
 * written from the Hugging Face definitions.
 */
class DeepSeekAndGptOssShapesTest {
    @TempDir Path tmp;
    final Map<String, float[]> w = new LinkedHashMap<>();
    final Map<String, long[]> shapes = new LinkedHashMap<>();
    static final double EPS = HfCheckpoints.EPS;

    // ---------------------------------------------------------------- DeepSeek-V3

    @Test
    void deepSeekWithoutQLowRankAndWithOneGroup() throws Exception {
        checkDeepSeek(new Ds(71, 48, 3, 3, 0, 24, 8, 8, 12, 6, 2, 1, 1, 16, 40, 2, 1, 1.7, 50000.0));
    }

    @Test
    void deepSeekWithGroupsAndTwoDenseLayers() throws Exception {
        checkDeepSeek(new Ds(67, 40, 4, 5, 20, 16, 6, 4, 10, 12, 3, 4, 2, 12, 24, 1, 2, 2.5, 10000.0));
    }

    /**
     * DeepSeek-V3's published rope scaling (yarn, factor 40, mscale = mscale_all_dim = 1: cos/sin unscaled, the softmax
     * scale × get_mscale(40)²), here from an original context of 4 so that the 13 tokens run past it.
     */
    @Test
    void deepSeekWithYarnAsPublished() throws Exception {
        Ds s = new Ds(71, 48, 3, 3, 0, 24, 8, 8, 12, 6, 2, 1, 1, 16, 40, 2, 1, 1.7, 10000.0);
        checkDeepSeek(s, "\"type\": \"yarn\", \"factor\": 40, \"mscale\": 1.0, \"mscale_all_dim\": 1.0, \"beta_fast\": 32, "
                + "\"beta_slow\": 1, \"original_max_position_embeddings\": 4", NaiveRope.yarn(s.theta(), s.rope(), 40, 4, null, 32, 1, 1.0, 1.0, true),
                Math.pow(0.1 * Math.log(40) + 1, 2));
    }

    /** mscale ≠ mscale_all_dim (DeepSeek-V2 style values): cos/sin scaled by their ratio as well. */
    @Test
    void deepSeekWithYarnAndUnequalMscales() throws Exception {
        Ds s = new Ds(67, 40, 4, 5, 20, 16, 6, 4, 10, 12, 3, 4, 2, 12, 24, 1, 2, 2.5, 10000.0);
        checkDeepSeek(s, "\"rope_type\": \"yarn\", \"factor\": 16, \"mscale\": 0.9, \"mscale_all_dim\": 0.5, "
                + "\"original_max_position_embeddings\": 2", NaiveRope.yarn(s.theta(), s.rope(), 16, 2, null, 32, 1, 0.9, 0.5, true),
                Math.pow(0.1 * 0.5 * Math.log(16) + 1, 2));
    }

    private void checkDeepSeek(Ds s) throws Exception {
        checkDeepSeek(s, "\"rope_type\": \"default\"", NaiveRope.plain(s.theta(), s.rope()), 1);
    }

    /**
     * Safetensors and the GGUF moe4j writes (split attn_k_b / attn_v_b, rope scaling keys) against the reference.
     *
     * @param scaleFactor DeepSeek's factor on the softmax scale (mscale² with mscale_all_dim)
     */
    private void checkDeepSeek(Ds s, String rope, NaiveRope naive, double scaleFactor) throws Exception {
        String config = HfCheckpoints.deepSeek(s, new SplittableRandom(11), w, shapes, 64, rope);
        Path dir = writeHf("ds", config);
        int[] ids = ids(s.vocab());
        double[][] ref = deepSeekReference(s, ids, naive, scaleFactor);
        assertClose(dir, ids, ref, 1e-5);
        Path gguf = tmp.resolve("ds.gguf");
        HfToGguf.quantize(dir, gguf, DType.F32, new GgufQuantizer.Listener() {});
        assertClose(gguf, ids, ref, 1e-5);
    }

    private double[][] deepSeekReference(Ds s, int[] ids, NaiveRope rope, double scaleFactor) {
        int n = ids.length, qk = s.nope() + s.rope();
        double[] inv = rope.invFreq(n);
        double[][] x = embed(ids, s.d());
        for (int l = 0; l < s.layers(); l++) {
            String p = "model.layers." + l + ".";
            double[][] q = new double[n][], c = new double[n][], kpe = new double[n][];
            for (int t = 0; t < n; t++) {
                double[] h = rms(x[t], w.get(p + "input_layernorm.weight"), EPS);
                q[t] = s.qRank() > 0
                        ? linear(w.get(p + "self_attn.q_b_proj.weight"), rms(linear(w.get(p + "self_attn.q_a_proj.weight"), h, s.qRank(), null),
                                w.get(p + "self_attn.q_a_layernorm.weight"), EPS), s.heads() * qk, null)
                        : linear(w.get(p + "self_attn.q_proj.weight"), h, s.heads() * qk, null);
                double[] kva = linear(w.get(p + "self_attn.kv_a_proj_with_mqa.weight"), h, s.kvRank() + s.rope(), null);
                c[t] = rms(slice(kva, 0, s.kvRank()), w.get(p + "self_attn.kv_a_layernorm.weight"), EPS);
                kpe[t] = deinterleave(slice(kva, s.kvRank(), s.rope()));
                NaiveRope.rotateHalf(kpe[t], 0, s.rope(), t, inv, rope.attentionScaling());
                for (int h2 = 0; h2 < s.heads(); h2++) {
                    double[] pe = deinterleave(slice(q[t], h2 * qk + s.nope(), s.rope()));
                    NaiveRope.rotateHalf(pe, 0, s.rope(), t, inv, rope.attentionScaling());
                    System.arraycopy(pe, 0, q[t], h2 * qk + s.nope(), s.rope());
                }
            }
            double[][] kv = new double[n][];
            for (int t = 0; t < n; t++) kv[t] = linear(w.get(p + "self_attn.kv_b_proj.weight"), c[t], s.heads() * (s.nope() + s.vDim()), null);
            for (int t = 0; t < n; t++) {
                double[] o = new double[s.heads() * s.vDim()];
                for (int h2 = 0; h2 < s.heads(); h2++) {
                    double[] sc = new double[t + 1];
                    for (int j = 0; j <= t; j++) {
                        double dot = 0;
                        for (int i = 0; i < s.nope(); i++) dot += q[t][h2 * qk + i] * kv[j][h2 * (s.nope() + s.vDim()) + i];
                        for (int i = 0; i < s.rope(); i++) dot += q[t][h2 * qk + s.nope() + i] * kpe[j][i];
                        sc[j] = dot / Math.sqrt(qk) * scaleFactor;
                    }
                    double[] pr = softmax(sc, null);
                    for (int j = 0; j <= t; j++) {
                        for (int i = 0; i < s.vDim(); i++) o[h2 * s.vDim() + i] += pr[j] * kv[j][h2 * (s.nope() + s.vDim()) + s.nope() + i];
                    }
                }
                double[] a = linear(w.get(p + "self_attn.o_proj.weight"), o, s.d(), null);
                for (int i = 0; i < s.d(); i++) x[t][i] += a[i];
            }
            for (int t = 0; t < n; t++) {
                double[] h = rms(x[t], w.get(p + "post_attention_layernorm.weight"), EPS);
                double[] y = l < s.leadingDense()
                        ? swiglu(w.get(p + "mlp.gate_proj.weight"), w.get(p + "mlp.up_proj.weight"), w.get(p + "mlp.down_proj.weight"), h, s.denseFfn(), s.d())
                        : deepSeekMoe(s, p + "mlp.", h);
                for (int i = 0; i < s.d(); i++) x[t][i] += y[i];
            }
        }
        return head(x, s.vocab(), s.d());
    }

    private double[] deepSeekMoe(Ds s, String m, double[] h) {
        double[] logits = linear(w.get(m + "gate.weight"), h, s.experts(), null);
        double[] score = new double[s.experts()], choice = new double[s.experts()];
        float[] bias = w.get(m + "gate.e_score_correction_bias");
        for (int e = 0; e < s.experts(); e++) { score[e] = sigmoid(logits[e]); choice[e] = score[e] + bias[e]; }
        int per = s.experts() / s.groups();
        double[] gs = new double[s.groups()];
        for (int g = 0; g < s.groups(); g++) {
            double[] part = slice(choice, g * per, per);
            java.util.Arrays.sort(part);
            gs[g] = part[per - 1] + (per > 1 ? part[per - 2] : 0);
        }
        boolean[] keep = topMask(gs, s.groupsKept());
        for (int e = 0; e < s.experts(); e++) if (!keep[e / per]) choice[e] = 0.0;
        boolean[] chosen = topMask(choice, s.k());
        double sum = 0;
        for (int e = 0; e < s.experts(); e++) if (chosen[e]) sum += score[e];
        double[] y = swiglu(w.get(m + "shared_experts.gate_proj.weight"), w.get(m + "shared_experts.up_proj.weight"),
                w.get(m + "shared_experts.down_proj.weight"), h, s.shared() * s.ffn(), s.d());
        for (int e = 0; e < s.experts(); e++) {
            if (!chosen[e]) continue;
            double wt = score[e] / (sum + 1e-20) * s.scale();
            double[] o = swiglu(w.get(m + "experts." + e + ".gate_proj.weight"), w.get(m + "experts." + e + ".up_proj.weight"),
                    w.get(m + "experts." + e + ".down_proj.weight"), h, s.ffn(), s.d());
            for (int i = 0; i < s.d(); i++) y[i] += wt * o[i];
        }
        return y;
    }

    /** HF's rope_interleave: [x0, x1, x2, x3, …] → [x0, x2, …, x1, x3, …]. */
    private static double[] deinterleave(double[] v) {
        double[] out = new double[v.length];
        for (int i = 0; i < v.length / 2; i++) { out[i] = v[2 * i]; out[v.length / 2 + i] = v[2 * i + 1]; }
        return out;
    }

    // ---------------------------------------------------------------- GPT-OSS

    @Test
    void gptOssWithOtherHeadsWindowAndExperts() throws Exception {
        Oss s = new Oss(59, 32, 3, 6, 2, 8, 5, 3, 24, 3, 30000.0);
        checkGptOss(s, "\"rope_type\": \"default\"", NaiveRope.plain(s.theta(), s.hd()));
    }

    /** gpt-oss's published rope scaling (yarn, factor 32, truncate false), from an original context of 4. */
    @Test
    void gptOssWithYarnAsPublished() throws Exception {
        Oss s = new Oss(59, 32, 3, 6, 2, 8, 5, 3, 24, 5, 150000.0);
        checkGptOss(s, "\"rope_type\": \"yarn\", \"factor\": 32.0, \"beta_fast\": 32.0, \"beta_slow\": 1.0, "
                + "\"original_max_position_embeddings\": 4, \"truncate\": false", NaiveRope.yarn(s.theta(), s.hd(), 32, 4, null, 32, 1, null, null, false));
    }

    private void checkGptOss(Oss s, String rope, NaiveRope naive) throws Exception {
        int vocab = s.vocab(), d = s.d(), layers = s.layers(), heads = s.heads(), kvHeads = s.kvHeads(), hd = s.hd();
        int experts = s.experts(), k = s.k(), ffn = s.ffn(), window = s.window();
        float alpha = 1.702f, limit = 7.0f;
        String config = HfCheckpoints.gptOss(s, new SplittableRandom(13), w, shapes, 64, rope);
        Path dir = writeHf("oss", config);
        int[] ids = ids(vocab);
        int n = ids.length, group = heads / kvHeads;
        double[] inv = naive.invFreq(n);
        double[][] x = embed(ids, d);
        for (int l = 0; l < layers; l++) {
            String p = "model.layers." + l + ".";
            boolean slides = s.slides(l);
            double[][] q = new double[n][], kk = new double[n][], v = new double[n][];
            for (int t = 0; t < n; t++) {
                double[] h = rms(x[t], w.get(p + "input_layernorm.weight"), EPS);
                q[t] = linear(w.get(p + "self_attn.q_proj.weight"), h, heads * hd, w.get(p + "self_attn.q_proj.bias"));
                kk[t] = linear(w.get(p + "self_attn.k_proj.weight"), h, kvHeads * hd, w.get(p + "self_attn.k_proj.bias"));
                v[t] = linear(w.get(p + "self_attn.v_proj.weight"), h, kvHeads * hd, w.get(p + "self_attn.v_proj.bias"));
                for (int h2 = 0; h2 < heads; h2++) NaiveRope.rotateHalf(q[t], h2 * hd, hd, t, inv, naive.attentionScaling());
                for (int h2 = 0; h2 < kvHeads; h2++) NaiveRope.rotateHalf(kk[t], h2 * hd, hd, t, inv, naive.attentionScaling());
            }
            for (int t = 0; t < n; t++) {
                double[] o = new double[heads * hd];
                int from = slides ? Math.max(0, t - window + 1) : 0;
                for (int h2 = 0; h2 < heads; h2++) {
                    int kh = h2 / group;
                    double[] sc = new double[t - from + 1];
                    for (int j = from; j <= t; j++) {
                        double dot = 0;
                        for (int i = 0; i < hd; i++) dot += q[t][h2 * hd + i] * kk[j][kh * hd + i];
                        sc[j - from] = dot / Math.sqrt(hd);
                    }
                    double[] pr = softmax(sc, (double) w.get(p + "self_attn.sinks")[h2]);
                    for (int j = from; j <= t; j++) for (int i = 0; i < hd; i++) o[h2 * hd + i] += pr[j - from] * v[j][kh * hd + i];
                }
                double[] a = linear(w.get(p + "self_attn.o_proj.weight"), o, d, w.get(p + "self_attn.o_proj.bias"));
                for (int i = 0; i < d; i++) x[t][i] += a[i];
            }
            for (int t = 0; t < n; t++) {
                double[] h = rms(x[t], w.get(p + "post_attention_layernorm.weight"), EPS);
                double[] logits = linear(w.get(p + "mlp.router.weight"), h, experts, w.get(p + "mlp.router.bias"));
                boolean[] chosen = topMask(logits, k);
                double max = Double.NEGATIVE_INFINITY, sum = 0;
                for (int e = 0; e < experts; e++) if (chosen[e]) max = Math.max(max, logits[e]);
                for (int e = 0; e < experts; e++) if (chosen[e]) sum += Math.exp(logits[e] - max);
                float[] gu = w.get(p + "mlp.experts.gate_up_proj"), gub = w.get(p + "mlp.experts.gate_up_proj_bias");
                float[] dn = w.get(p + "mlp.experts.down_proj"), dnb = w.get(p + "mlp.experts.down_proj_bias");
                for (int e = 0; e < experts; e++) {
                    if (!chosen[e]) continue;
                    double wt = Math.exp(logits[e] - max) / sum;
                    double[] act = new double[ffn];
                    for (int i = 0; i < ffn; i++) {
                        double g = gub[e * 2 * ffn + 2 * i], u = gub[e * 2 * ffn + 2 * i + 1];
                        for (int c = 0; c < d; c++) {
                            g += h[c] * gu[(e * d + c) * 2 * ffn + 2 * i];
                            u += h[c] * gu[(e * d + c) * 2 * ffn + 2 * i + 1];
                        }
                        g = Math.min(g, limit);
                        u = Math.max(-limit, Math.min(u, limit));
                        act[i] = (u + 1) * g * sigmoid(alpha * g);
                    }
                    for (int o = 0; o < d; o++) {
                        double y = dnb[e * d + o];
                        for (int i = 0; i < ffn; i++) y += act[i] * dn[(e * ffn + i) * d + o];
                        x[t][o] += wt * y;
                    }
                }
            }
        }
        assertClose(dir, ids, head(x, vocab, d), 1e-5);
    }

    // ---------------------------------------------------------------- shared

    private static boolean[] topMask(double[] v, int k) {
        boolean[] m = new boolean[v.length];
        for (int s = 0; s < k; s++) {
            int best = -1;
            for (int i = 0; i < v.length; i++) if (!m[i] && (best < 0 || v[i] > v[best])) best = i;
            m[best] = true;
        }
        return m;
    }

    private static int[] ids(int vocab) {
        int[] ids = new int[13];
        for (int i = 0; i < ids.length; i++) ids[i] = (i * 29 + 3) % vocab;
        return ids;
    }

    private double[][] embed(int[] ids, int d) {
        double[][] x = new double[ids.length][d];
        float[] e = w.get("model.embed_tokens.weight");
        for (int t = 0; t < ids.length; t++) for (int i = 0; i < d; i++) x[t][i] = e[ids[t] * d + i];
        return x;
    }

    private double[][] head(double[][] x, int vocab, int d) {
        double[][] out = new double[x.length][];
        for (int t = 0; t < x.length; t++) out[t] = linear(w.get("lm_head.weight"), rms(x[t], w.get("model.norm.weight"), EPS), vocab, null);
        return out;
    }

    private Path writeHf(String name, String config) throws Exception {
        return HfCheckpoints.write(tmp.resolve(name), config, w, shapes);
    }

    private static void assertClose(Path model, int[] ids, double[][] ref, double bound) {
        try (Model m = Model.load(model)) {
            MoeTransformer tf = m.transformer();
            double err = UnseenShapesTest.relativeError(tf.forward(ids, tf.newCache(ids.length), true), ref);
            assertTrue(err <= bound, model.getFileName() + ": relative error " + err + " > " + bound);
            KvCache cache = tf.newCache(ids.length);   // and token by token
            float[] stepwise = new float[ids.length * ref[0].length];
            for (int t = 0; t < ids.length; t++) {
                System.arraycopy(tf.forward(new int[] {ids[t]}, cache, false), 0, stepwise, t * ref[0].length, ref[0].length);
            }
            double err2 = UnseenShapesTest.relativeError(stepwise, ref);
            assertTrue(err2 <= bound, model.getFileName() + " token by token: relative error " + err2 + " > " + bound);
        }
    }
}
