package dev.moe4j.train.export;

import dev.moe4j.format.gguf.GgufType;
import dev.moe4j.format.gguf.GgufWriter;
import dev.moe4j.format.safetensors.SafetensorsWriter;
import dev.moe4j.tensor.DType;
import dev.moe4j.train.ModelSpec;
import dev.moe4j.train.MoeModel;
import dev.moe4j.train.Params;
import dev.moe4j.train.data.ByteBpe;
import dev.moe4j.train.data.JsonOut;
import dev.moe4j.util.Moe4jException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes a trained model in float32 as a Hugging Face folder (config.json, model.safetensors, tokenizer.json,
 * tokenizer_config.json) or as a GGUF file, with the tensor names and metadata transformers and llama.cpp use.
 */
public final class Exporter {
    private final MoeModel m;
    private final ModelSpec s;
    private final Params p;
    private final ByteBpe vocab;
    private final Layout layout;

    public Exporter(MoeModel model, ByteBpe vocab) {
        this.m = model;
        this.s = model.spec();
        this.p = model.params();
        this.vocab = vocab;
        this.layout = Layout.of(s);
        if (vocab.vocabSize() > s.vocab()) throw new IllegalArgumentException("tokenizer has more tokens than the model");
    }

    public Layout layout() { return layout; }

    // ---- tensors as float32, shapes outermost first ----

    private float[] f(int offset, int n) {
        float[] out = new float[n];
        for (int i = 0; i < n; i++) out[i] = (float) m.w[offset + i];
        return out;
    }

    private float[] scaled(int offset, int n, double k) {
        float[] out = new float[n];
        for (int i = 0; i < n; i++) out[i] = (float) (k * m.w[offset + i]);
        return out;
    }

    private float[] router(Params.Layer pl) {
        return pl.router >= 0 ? f(pl.router, s.experts() * s.dim()) : new float[s.dim()];  // dense: one expert, any logit
    }

    /** llama.cpp's converter reorders q/k rows of 'llama' models so that RoPE rotates adjacent pairs: row 2i ← i, 2i+1 ← i + hd/2. */
    private float[] permuteForAdjacentRope(int offset) {
        int d = s.dim(), hd = s.headDim(), half = hd / 2;
        float[] out = new float[d * d];
        for (int h = 0; h < s.heads(); h++) {
            for (int i = 0; i < half; i++) {
                for (int c = 0; c < d; c++) {
                    out[(h * hd + 2 * i) * d + c] = (float) m.w[offset + (h * hd + i) * d + c];
                    out[(h * hd + 2 * i + 1) * d + c] = (float) m.w[offset + (h * hd + i + half) * d + c];
                }
            }
        }
        return out;
    }

    private float[] sharedDown(Params.Layer pl) {
        int fs = Layout.sharedWidth(s);
        return pl.shDown >= 0 ? scaled(pl.shDown, s.dim() * fs, 2.0) : new float[s.dim() * fs];
    }

    private float[] sharedPart(int offset) {
        return offset >= 0 ? f(offset, s.sharedFfn() * s.dim()) : new float[s.dim() * Layout.sharedWidth(s)];
    }

    // ---- Hugging Face folder ----

    public void writeHuggingFace(Path dir) {
        int d = s.dim(), f = s.expertFfn(), fs = Layout.sharedWidth(s);
        SafetensorsWriter w = new SafetensorsWriter().metadata("format", "pt");
        w.add("model.embed_tokens.weight", DType.F32, new long[] {s.vocab(), d}, f(p.embedding, s.vocab() * d));
        for (int l = 0; l < s.layers(); l++) {
            Params.Layer pl = p.layers[l];
            String b = "model.layers." + l + ".";
            w.add(b + "input_layernorm.weight", DType.F32, new long[] {d}, f(pl.attnNorm, d));
            w.add(b + "post_attention_layernorm.weight", DType.F32, new long[] {d}, f(pl.ffnNorm, d));
            String[] proj = {"q_proj", "k_proj", "v_proj", "o_proj"};
            int[] offs = {pl.wq, pl.wk, pl.wv, pl.wo};
            for (int i = 0; i < 4; i++) w.add(b + "self_attn." + proj[i] + ".weight", DType.F32, new long[] {d, d}, f(offs[i], d * d));
            if (layout == Layout.QWEN2_MOE) {
                for (String x : new String[] {"q_proj", "k_proj", "v_proj"}) w.add(b + "self_attn." + x + ".bias", DType.F32, new long[] {d}, new float[d]);
            }
            String moe = b + (layout == Layout.MIXTRAL ? "block_sparse_moe." : "mlp.");
            w.add(moe + "gate.weight", DType.F32, new long[] {s.experts(), d}, router(pl));
            String[] names = layout == Layout.MIXTRAL ? new String[] {"w1", "w3", "w2"} : new String[] {"gate_proj", "up_proj", "down_proj"};
            for (int e = 0; e < s.experts(); e++) {
                String x = moe + "experts." + e + ".";
                w.add(x + names[0] + ".weight", DType.F32, new long[] {f, d}, f(pl.gate + e * f * d, f * d));
                w.add(x + names[1] + ".weight", DType.F32, new long[] {f, d}, f(pl.up + e * f * d, f * d));
                w.add(x + names[2] + ".weight", DType.F32, new long[] {d, f}, f(pl.down + e * d * f, d * f));
            }
            if (layout == Layout.QWEN2_MOE) {
                w.add(moe + "shared_expert.gate_proj.weight", DType.F32, new long[] {fs, d}, sharedPart(pl.shGate));
                w.add(moe + "shared_expert.up_proj.weight", DType.F32, new long[] {fs, d}, sharedPart(pl.shUp));
                w.add(moe + "shared_expert.down_proj.weight", DType.F32, new long[] {d, fs}, sharedDown(pl));
                w.add(moe + "shared_expert_gate.weight", DType.F32, new long[] {1, d}, new float[d]);
            }
        }
        w.add("model.norm.weight", DType.F32, new long[] {d}, f(p.outNorm, d));
        w.add("lm_head.weight", DType.F32, new long[] {s.vocab(), d}, f(p.head, s.vocab() * d));
        try {
            Files.createDirectories(dir);
            w.write(dir.resolve("model.safetensors"));
            Files.writeString(dir.resolve("config.json"), configJson());
            Files.writeString(dir.resolve("generation_config.json"), "{\"eos_token_id\":" + vocab.eosId() + "}\n");
            Files.writeString(dir.resolve("tokenizer.json"), vocab.tokenizerJson());
            Files.writeString(dir.resolve("tokenizer_config.json"), vocab.tokenizerConfigJson(s.seqLen()));
        } catch (IOException e) {
            throw new Moe4jException(dir + ": cannot write: " + e.getMessage(), e);
        }
    }

    String configJson() {
        StringBuilder j = new StringBuilder("{\n");
        boolean mix = layout == Layout.MIXTRAL;
        kv(j, "architectures", "[" + JsonOut.str(mix ? "MixtralForCausalLM" : "Qwen2MoeForCausalLM") + "]");
        kv(j, "model_type", JsonOut.str(mix ? "mixtral" : "qwen2_moe"));
        kv(j, "vocab_size", s.vocab());
        kv(j, "hidden_size", s.dim());
        kv(j, "intermediate_size", s.expertFfn());
        kv(j, "num_hidden_layers", s.layers());
        kv(j, "num_attention_heads", s.heads());
        kv(j, "num_key_value_heads", s.heads());
        kv(j, "head_dim", s.headDim());
        kv(j, "max_position_embeddings", s.seqLen());
        kv(j, "rms_norm_eps", JsonOut.num(s.normEps()));
        kv(j, "rope_theta", JsonOut.num(s.ropeTheta()));
        kv(j, "hidden_act", "\"silu\"");
        kv(j, "num_experts_per_tok", s.topK());
        if (mix) {
            kv(j, "num_local_experts", s.experts());
            kv(j, "sliding_window", "null");
        } else {
            kv(j, "num_experts", s.experts());
            kv(j, "moe_intermediate_size", s.expertFfn());
            kv(j, "shared_expert_intermediate_size", Layout.sharedWidth(s));
            kv(j, "norm_topk_prob", Layout.renormalize(s));
            kv(j, "decoder_sparse_step", 1);
            kv(j, "mlp_only_layers", "[]");
            kv(j, "use_sliding_window", false);
        }
        kv(j, "router_aux_loss_coef", 0.01);
        kv(j, "output_router_logits", false);
        kv(j, "attention_dropout", 0.0);
        kv(j, "tie_word_embeddings", false);
        kv(j, "bos_token_id", "null");
        kv(j, "eos_token_id", vocab.eosId());
        kv(j, "torch_dtype", "\"float32\"");
        j.append("  \"transformers_version\": \"4.46.0\"\n}\n");
        return j.toString();
    }

    private static void kv(StringBuilder j, String k, Object v) {
        j.append("  ").append(JsonOut.str(k)).append(": ").append(v).append(",\n");
    }

    // ---- GGUF ----

    public void writeGguf(Path file) {
        int d = s.dim(), f = s.expertFfn(), fs = Layout.sharedWidth(s), e = s.experts();
        boolean mix = layout == Layout.MIXTRAL;
        String arch = mix ? "llama" : "qwen2moe";
        GgufWriter g = new GgufWriter();
        g.putString("general.architecture", arch);
        g.putString("general.name", "moe4j-trained");
        g.putUInt32("general.file_type", 0);   // all F32
        g.putUInt32(arch + ".context_length", s.seqLen());
        g.putUInt32(arch + ".embedding_length", d);
        g.putUInt32(arch + ".block_count", s.layers());
        g.putUInt32(arch + ".feed_forward_length", f);
        g.putUInt32(arch + ".attention.head_count", s.heads());
        g.putUInt32(arch + ".attention.head_count_kv", s.heads());
        g.putUInt32(arch + ".rope.dimension_count", s.headDim());
        g.putFloat32(arch + ".rope.freq_base", (float) s.ropeTheta());
        g.putFloat32(arch + ".attention.layer_norm_rms_epsilon", (float) s.normEps());
        g.putUInt32(arch + ".expert_count", e);
        g.putUInt32(arch + ".expert_used_count", s.topK());
        g.putUInt32(arch + ".vocab_size", s.vocab());
        if (!mix) {
            g.putUInt32(arch + ".expert_feed_forward_length", f);
            g.putUInt32(arch + ".expert_shared_feed_forward_length", fs);
            g.putBool(arch + ".expert_weights_norm", Layout.renormalize(s));
        }
        putTokenizer(g);
        g.addTensor("token_embd.weight", DType.F32, new long[] {s.vocab(), d}, f(p.embedding, s.vocab() * d));
        for (int l = 0; l < s.layers(); l++) {
            Params.Layer pl = p.layers[l];
            String b = "blk." + l + ".";
            g.addTensor(b + "attn_norm.weight", DType.F32, new long[] {d}, f(pl.attnNorm, d));
            g.addTensor(b + "attn_q.weight", DType.F32, new long[] {d, d}, mix ? permuteForAdjacentRope(pl.wq) : f(pl.wq, d * d));
            g.addTensor(b + "attn_k.weight", DType.F32, new long[] {d, d}, mix ? permuteForAdjacentRope(pl.wk) : f(pl.wk, d * d));
            g.addTensor(b + "attn_v.weight", DType.F32, new long[] {d, d}, f(pl.wv, d * d));
            g.addTensor(b + "attn_output.weight", DType.F32, new long[] {d, d}, f(pl.wo, d * d));
            if (!mix) for (String x : new String[] {"attn_q", "attn_k", "attn_v"}) g.addTensor(b + x + ".bias", DType.F32, new long[] {d}, new float[d]);
            g.addTensor(b + "ffn_norm.weight", DType.F32, new long[] {d}, f(pl.ffnNorm, d));
            g.addTensor(b + "ffn_gate_inp.weight", DType.F32, new long[] {e, d}, router(pl));
            g.addTensor(b + "ffn_gate_exps.weight", DType.F32, new long[] {e, f, d}, f(pl.gate, e * f * d));
            g.addTensor(b + "ffn_up_exps.weight", DType.F32, new long[] {e, f, d}, f(pl.up, e * f * d));
            g.addTensor(b + "ffn_down_exps.weight", DType.F32, new long[] {e, d, f}, f(pl.down, e * d * f));
            if (!mix) {
                g.addTensor(b + "ffn_gate_inp_shexp.weight", DType.F32, new long[] {d}, new float[d]);
                g.addTensor(b + "ffn_gate_shexp.weight", DType.F32, new long[] {fs, d}, sharedPart(pl.shGate));
                g.addTensor(b + "ffn_up_shexp.weight", DType.F32, new long[] {fs, d}, sharedPart(pl.shUp));
                g.addTensor(b + "ffn_down_shexp.weight", DType.F32, new long[] {d, fs}, sharedDown(pl));
            }
        }
        g.addTensor("output_norm.weight", DType.F32, new long[] {d}, f(p.outNorm, d));
        g.addTensor("output.weight", DType.F32, new long[] {s.vocab(), d}, f(p.head, s.vocab() * d));
        g.write(file);
    }

    /** GPT-2 byte-level vocabulary as llama.cpp reads it; padding ids past the tokenizer (if any) are unused tokens. */
    private void putTokenizer(GgufWriter g) {
        List<String> tokens = new ArrayList<>(vocab.tokenStrings());
        List<Integer> types = new ArrayList<>();
        for (int i = 0; i < tokens.size(); i++) types.add(i == vocab.eosId() ? 3 : 1);
        for (int i = tokens.size(); i < s.vocab(); i++) { tokens.add("[PAD" + i + "]"); types.add(5); }
        g.putString("tokenizer.ggml.model", "gpt2");
        g.putString("tokenizer.ggml.pre", "gpt-2");
        g.putArray("tokenizer.ggml.tokens", GgufType.STRING, tokens);
        g.putArray("tokenizer.ggml.token_type", GgufType.INT32, types);
        g.putArray("tokenizer.ggml.merges", GgufType.STRING, vocab.mergeStrings());
        g.putUInt32("tokenizer.ggml.eos_token_id", vocab.eosId());
        g.putUInt32("tokenizer.ggml.bos_token_id", vocab.eosId());
        g.putBool("tokenizer.ggml.add_bos_token", false);
    }
}
