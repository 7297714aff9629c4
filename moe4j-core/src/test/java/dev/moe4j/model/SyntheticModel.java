package dev.moe4j.model;

import dev.moe4j.format.gguf.GgufWriter;
import dev.moe4j.format.safetensors.SafetensorsWriter;
import dev.moe4j.tensor.DType;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A random-weight checkpoint of any supported architecture and shape, written both as a Hugging Face
 * folder and as a GGUF file the way llama.cpp's converter lays it out. Weights are kept under their
 * Hugging Face names in [out, in] layout.
 */
final class SyntheticModel {
    final Architecture arch;
    final int vocab, hidden, layers, heads, kvHeads, headDim, experts, topK, ffn, sharedFfn;
    final double theta;
    final boolean renormalize;
    final Map<String, float[]> w = new LinkedHashMap<>();
    final Map<String, long[]> shapes = new LinkedHashMap<>();
    /** max_position_embeddings, and extra rope_parameters entries for config.json (e.g. a scaling; null: none). */
    int context = 64;
    String ropeParameters;

    SyntheticModel(Architecture arch, int vocab, int hidden, int layers, int heads, int kvHeads, int headDim,
                   int experts, int topK, int ffn, int sharedFfn, double theta, long seed) {
        this.arch = arch;
        this.vocab = vocab; this.hidden = hidden; this.layers = layers; this.heads = heads; this.kvHeads = kvHeads;
        this.headDim = headDim; this.experts = experts; this.topK = topK; this.ffn = ffn; this.sharedFfn = sharedFfn;
        this.theta = theta;
        this.renormalize = arch.renormalizeByDefault;
        SplittableRandom r = new SplittableRandom(seed);
        int q = heads * headDim, kv = kvHeads * headDim;
        add(r, "model.embed_tokens.weight", 1.0, vocab, hidden);
        add(r, "lm_head.weight", 0.2, vocab, hidden);
        addNorm(r, "model.norm.weight", hidden);
        for (int l = 0; l < layers; l++) {
            String p = "model.layers." + l + ".";
            addNorm(r, p + "input_layernorm.weight", hidden);
            addNorm(r, p + "post_attention_layernorm.weight", hidden);
            add(r, p + "self_attn.q_proj.weight", 0.3, q, hidden);
            add(r, p + "self_attn.k_proj.weight", 0.3, kv, hidden);
            add(r, p + "self_attn.v_proj.weight", 0.3, kv, hidden);
            add(r, p + "self_attn.o_proj.weight", 0.3, hidden, q);
            if (arch == Architecture.QWEN2_MOE) {
                add(r, p + "self_attn.q_proj.bias", 0.1, q);
                add(r, p + "self_attn.k_proj.bias", 0.1, kv);
                add(r, p + "self_attn.v_proj.bias", 0.1, kv);
            }
            if (arch.qkNorm == Architecture.QkNorm.WHOLE) {
                addNorm(r, p + "self_attn.q_norm.weight", q);
                addNorm(r, p + "self_attn.k_norm.weight", kv);
            } else if (arch.qkNorm == Architecture.QkNorm.PER_HEAD) {
                addNorm(r, p + "self_attn.q_norm.weight", headDim);
                addNorm(r, p + "self_attn.k_norm.weight", headDim);
            }
            String m = p + arch.hfMoeBlock + ".";
            add(r, m + "gate.weight", 1.0, experts, hidden);
            for (int e = 0; e < experts; e++) {
                add(r, m + "experts." + e + "." + arch.hfGate + ".weight", 0.3, ffn, hidden);
                add(r, m + "experts." + e + "." + arch.hfUp + ".weight", 0.3, ffn, hidden);
                add(r, m + "experts." + e + "." + arch.hfDown + ".weight", 0.3, hidden, ffn);
            }
            if (sharedFfn > 0) {
                add(r, m + "shared_expert.gate_proj.weight", 0.3, sharedFfn, hidden);
                add(r, m + "shared_expert.up_proj.weight", 0.3, sharedFfn, hidden);
                add(r, m + "shared_expert.down_proj.weight", 0.3, hidden, sharedFfn);
                add(r, m + "shared_expert_gate.weight", 0.3, 1, hidden);
            }
        }
    }

    private void add(SplittableRandom r, String name, double scale, long... shape) {
        long n = 1;
        for (long d : shape) n *= d;
        float[] v = new float[(int) n];
        for (int i = 0; i < v.length; i++) v[i] = (float) (scale * (r.nextDouble() * 2 - 1) * Math.sqrt(3.0 / shape[shape.length - 1]) * 3);
        w.put(name, v);
        shapes.put(name, shape);
    }

    private void addNorm(SplittableRandom r, String name, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (0.5 + r.nextDouble());
        w.put(name, v);
        shapes.put(name, new long[] {n});
    }

    String expertName(int l, int e, String proj) {
        return "model.layers." + l + "." + arch.hfMoeBlock + ".experts." + e + "." + proj + ".weight";
    }

    /** config.json plus model.safetensors; experts per expert, or fused as transformers ≥ 5 keeps them. */
    void writeHf(Path dir, boolean fusedExperts) {
        try {
            Files.createDirectories(dir);
            String expertsKey = arch == Architecture.MIXTRAL || arch == Architecture.QWEN3_MOE ? "num_local_experts" : "num_experts";
            String json = "{\"model_type\": \"" + arch.hfModelType + "\", \"vocab_size\": " + vocab + ", \"hidden_size\": " + hidden
                    + ", \"num_hidden_layers\": " + layers + ", \"num_attention_heads\": " + heads + ", \"num_key_value_heads\": " + kvHeads
                    + ", \"head_dim\": " + headDim + ", \"" + expertsKey + "\": " + experts + ", \"num_experts_per_tok\": " + topK
                    + ", \"intermediate_size\": " + (ffn * 2) + ", \"moe_intermediate_size\": " + ffn
                    + (sharedFfn > 0 ? ", \"shared_expert_intermediate_size\": " + sharedFfn : "")
                    + ", \"rms_norm_eps\": 1e-05, \"max_position_embeddings\": " + context + ", \"rope_parameters\": {\"rope_theta\": " + theta
                    + (ropeParameters != null ? ", " + ropeParameters : ", \"rope_type\": \"default\"") + "}, \"tie_word_embeddings\": false}";
            Files.writeString(dir.resolve("config.json"), json);
            SafetensorsWriter st = new SafetensorsWriter();
            for (var e : w.entrySet()) {
                if (fusedExperts && e.getKey().contains(".experts.")) continue;
                st.add(e.getKey(), DType.F32, shapes.get(e.getKey()), e.getValue());
            }
            if (fusedExperts) {
                for (int l = 0; l < layers; l++) {
                    String m = "model.layers." + l + "." + arch.hfMoeBlock + ".experts.";
                    float[] gu = new float[experts * 2 * ffn * hidden], dn = new float[experts * hidden * ffn];
                    for (int e = 0; e < experts; e++) {
                        System.arraycopy(w.get(expertName(l, e, arch.hfGate)), 0, gu, e * 2 * ffn * hidden, ffn * hidden);
                        System.arraycopy(w.get(expertName(l, e, arch.hfUp)), 0, gu, e * 2 * ffn * hidden + ffn * hidden, ffn * hidden);
                        System.arraycopy(w.get(expertName(l, e, arch.hfDown)), 0, dn, e * hidden * ffn, hidden * ffn);
                    }
                    st.add(m + "gate_up_proj", DType.F32, new long[] {experts, 2L * ffn, hidden}, gu);
                    st.add(m + "down_proj", DType.F32, new long[] {experts, hidden, ffn}, dn);
                }
            }
            st.write(dir.resolve("model.safetensors"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A GGUF as llama.cpp's converter writes it: merged 3-D experts (or per-expert 2-D), q/k rows permuted for `llama`. */
    void writeGguf(Path file, boolean perExpert, DType type) {
        String a = arch.ggufName;
        GgufWriter g = new GgufWriter();
        g.putString("general.architecture", a);
        g.putUInt32(a + ".block_count", layers);
        g.putUInt32(a + ".context_length", 64);
        g.putUInt32(a + ".embedding_length", hidden);
        g.putUInt32(a + ".feed_forward_length", ffn * 2);
        g.putUInt32(a + ".expert_feed_forward_length", ffn);
        g.putUInt32(a + ".attention.head_count", heads);
        g.putUInt32(a + ".attention.head_count_kv", kvHeads);
        g.putUInt32(a + ".attention.key_length", headDim);
        g.putUInt32(a + ".attention.value_length", headDim);
        g.putFloat32(a + ".rope.freq_base", (float) theta);
        g.putFloat32(a + ".attention.layer_norm_rms_epsilon", 1e-5f);
        g.putUInt32(a + ".expert_count", experts);
        g.putUInt32(a + ".expert_used_count", topK);
        if (sharedFfn > 0) g.putUInt32(a + ".expert_shared_feed_forward_length", sharedFfn);
        g.putUInt32(a + ".vocab_size", vocab);
        boolean permute = arch == Architecture.MIXTRAL;
        tensor(g, "token_embd.weight", "model.embed_tokens.weight", type);
        tensor(g, "output.weight", "lm_head.weight", type);
        tensor(g, "output_norm.weight", "model.norm.weight", DType.F32);
        for (int l = 0; l < layers; l++) {
            String p = "model.layers." + l + ".", b = "blk." + l + ".";
            tensor(g, b + "attn_norm.weight", p + "input_layernorm.weight", DType.F32);
            tensor(g, b + "ffn_norm.weight", p + "post_attention_layernorm.weight", DType.F32);
            float[] qw = w.get(p + "self_attn.q_proj.weight"), kw = w.get(p + "self_attn.k_proj.weight");
            g.addTensor(b + "attn_q.weight", type, shapes.get(p + "self_attn.q_proj.weight"), permute ? permuteRows(qw, heads) : qw);
            g.addTensor(b + "attn_k.weight", type, shapes.get(p + "self_attn.k_proj.weight"), permute ? permuteRows(kw, kvHeads) : kw);
            tensor(g, b + "attn_v.weight", p + "self_attn.v_proj.weight", type);
            tensor(g, b + "attn_output.weight", p + "self_attn.o_proj.weight", type);
            for (String s : new String[] {"q", "k", "v"}) {
                if (w.containsKey(p + "self_attn." + s + "_proj.bias")) tensor(g, b + "attn_" + s + ".bias", p + "self_attn." + s + "_proj.bias", DType.F32);
            }
            if (arch.qkNorm != Architecture.QkNorm.NONE) {
                tensor(g, b + "attn_q_norm.weight", p + "self_attn.q_norm.weight", DType.F32);
                tensor(g, b + "attn_k_norm.weight", p + "self_attn.k_norm.weight", DType.F32);
            }
            String m = p + arch.hfMoeBlock + ".";
            tensor(g, b + "ffn_gate_inp.weight", m + "gate.weight", DType.F32);
            String[][] projs = {{"gate", arch.hfGate}, {"up", arch.hfUp}, {"down", arch.hfDown}};
            for (String[] pr : projs) {
                if (perExpert) {
                    for (int e = 0; e < experts; e++) {
                        String hf = expertName(l, e, pr[1]);
                        g.addTensor(b + "ffn_" + pr[0] + "." + e + ".weight", type, shapes.get(hf), w.get(hf));
                    }
                } else {
                    long[] s2 = shapes.get(expertName(l, 0, pr[1]));
                    int n = (int) (s2[0] * s2[1]);
                    float[] merged = new float[experts * n];
                    for (int e = 0; e < experts; e++) System.arraycopy(w.get(expertName(l, e, pr[1])), 0, merged, e * n, n);
                    g.addTensor(b + "ffn_" + pr[0] + "_exps.weight", type, new long[] {experts, s2[0], s2[1]}, merged);
                }
            }
            if (sharedFfn > 0) {
                tensor(g, b + "ffn_gate_shexp.weight", m + "shared_expert.gate_proj.weight", type);
                tensor(g, b + "ffn_up_shexp.weight", m + "shared_expert.up_proj.weight", type);
                tensor(g, b + "ffn_down_shexp.weight", m + "shared_expert.down_proj.weight", type);
                g.addTensor(b + "ffn_gate_inp_shexp.weight", DType.F32, new long[] {hidden}, w.get(m + "shared_expert_gate.weight"));
            }
        }
        g.write(file);
    }

    private void tensor(GgufWriter g, String name, String hf, DType type) {
        g.addTensor(name, type, shapes.get(hf), w.get(hf));
    }

    /** llama.cpp's converter reorders each head's rows from rotate-half pairs to adjacent pairs. */
    private float[] permuteRows(float[] m, int nHeads) {
        int half = headDim / 2, cols = hidden;
        float[] out = new float[m.length];
        for (int h = 0; h < nHeads; h++) {
            for (int i = 0; i < half; i++) {
                for (int j = 0; j < 2; j++) {
                    int dst = h * headDim + 2 * i + j, src = h * headDim + j * half + i;
                    System.arraycopy(m, src * cols, out, dst * cols, cols);
                }
            }
        }
        return out;
    }
}
