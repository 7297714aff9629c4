package dev.moe4j.model;

import dev.moe4j.format.safetensors.SafetensorsWriter;
import dev.moe4j.tensor.DType;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.SplittableRandom;

import static dev.moe4j.model.NaiveMath.put;
import static dev.moe4j.model.NaiveMath.putNorm;

/**
 * Random Hugging Face checkpoints of the architectures {@link SyntheticModel} does not write (DeepSeek-V3,
 * GPT-OSS): tensors into the caller's maps (so reference code can read them back), a config.json, a folder.
 */
final class HfCheckpoints {
    static final double EPS = 1e-6;

    private HfCheckpoints() {}

    record Ds(int vocab, int d, int layers, int heads, int qRank, int kvRank, int nope, int rope, int vDim, int experts,
              int k, int groups, int groupsKept, int ffn, int denseFfn, int shared, int leadingDense, double scale, double theta) {}

    /** GPT-OSS shapes; layers alternate sliding-window and full attention, starting with a sliding one. */
    record Oss(int vocab, int d, int layers, int heads, int kvHeads, int hd, int experts, int k, int ffn, int window, double theta) {
        boolean slides(int layer) {
            return layer % 2 == 0;
        }
    }

    /** Fills the maps with a DeepSeek-V3 checkpoint's tensors; returns its config.json. */
    static String deepSeek(Ds s, SplittableRandom r, Map<String, float[]> w, Map<String, long[]> shapes, int context) {
        return deepSeek(s, r, w, shapes, context, "\"rope_type\": \"default\"");
    }

    /** As above, with {@code rope} as the rope_parameters entries besides rope_theta. */
    static String deepSeek(Ds s, SplittableRandom r, Map<String, float[]> w, Map<String, long[]> shapes, int context, String rope) {
        put(w, shapes, r, "model.embed_tokens.weight", 1.0, s.vocab(), s.d());
        put(w, shapes, r, "lm_head.weight", 0.3, s.vocab(), s.d());
        putNorm(w, shapes, r, "model.norm.weight", s.d());
        int qk = s.nope() + s.rope();
        for (int l = 0; l < s.layers(); l++) {
            String p = "model.layers." + l + ".";
            putNorm(w, shapes, r, p + "input_layernorm.weight", s.d());
            putNorm(w, shapes, r, p + "post_attention_layernorm.weight", s.d());
            if (s.qRank() > 0) {
                put(w, shapes, r, p + "self_attn.q_a_proj.weight", 0.3, s.qRank(), s.d());
                putNorm(w, shapes, r, p + "self_attn.q_a_layernorm.weight", s.qRank());
                put(w, shapes, r, p + "self_attn.q_b_proj.weight", 0.3, (long) s.heads() * qk, s.qRank());
            } else {
                put(w, shapes, r, p + "self_attn.q_proj.weight", 0.3, (long) s.heads() * qk, s.d());
            }
            put(w, shapes, r, p + "self_attn.kv_a_proj_with_mqa.weight", 0.3, s.kvRank() + s.rope(), s.d());
            putNorm(w, shapes, r, p + "self_attn.kv_a_layernorm.weight", s.kvRank());
            put(w, shapes, r, p + "self_attn.kv_b_proj.weight", 0.3, (long) s.heads() * (s.nope() + s.vDim()), s.kvRank());
            put(w, shapes, r, p + "self_attn.o_proj.weight", 0.3, s.d(), (long) s.heads() * s.vDim());
            if (l < s.leadingDense()) {
                put(w, shapes, r, p + "mlp.gate_proj.weight", 0.3, s.denseFfn(), s.d());
                put(w, shapes, r, p + "mlp.up_proj.weight", 0.3, s.denseFfn(), s.d());
                put(w, shapes, r, p + "mlp.down_proj.weight", 0.3, s.d(), s.denseFfn());
                continue;
            }
            put(w, shapes, r, p + "mlp.gate.weight", 1.0, s.experts(), s.d());
            put(w, shapes, r, p + "mlp.gate.e_score_correction_bias", 0.3, s.experts());
            for (int e = 0; e < s.experts(); e++) {
                put(w, shapes, r, p + "mlp.experts." + e + ".gate_proj.weight", 0.3, s.ffn(), s.d());
                put(w, shapes, r, p + "mlp.experts." + e + ".up_proj.weight", 0.3, s.ffn(), s.d());
                put(w, shapes, r, p + "mlp.experts." + e + ".down_proj.weight", 0.3, s.d(), s.ffn());
            }
            int sf = s.shared() * s.ffn();
            put(w, shapes, r, p + "mlp.shared_experts.gate_proj.weight", 0.3, sf, s.d());
            put(w, shapes, r, p + "mlp.shared_experts.up_proj.weight", 0.3, sf, s.d());
            put(w, shapes, r, p + "mlp.shared_experts.down_proj.weight", 0.3, s.d(), sf);
        }
        return "{\"model_type\": \"deepseek_v3\", \"vocab_size\": " + s.vocab() + ", \"hidden_size\": " + s.d()
                + ", \"num_hidden_layers\": " + s.layers() + ", \"num_attention_heads\": " + s.heads() + ", \"num_key_value_heads\": " + s.heads()
                + ", \"q_lora_rank\": " + (s.qRank() == 0 ? "null" : s.qRank()) + ", \"kv_lora_rank\": " + s.kvRank()
                + ", \"qk_nope_head_dim\": " + s.nope() + ", \"qk_rope_head_dim\": " + s.rope() + ", \"v_head_dim\": " + s.vDim()
                + ", \"head_dim\": " + s.rope() + ", \"n_routed_experts\": " + s.experts() + ", \"num_experts_per_tok\": " + s.k()
                + ", \"n_group\": " + s.groups() + ", \"topk_group\": " + s.groupsKept() + ", \"moe_intermediate_size\": " + s.ffn()
                + ", \"intermediate_size\": " + s.denseFfn() + ", \"n_shared_experts\": " + s.shared()
                + ", \"first_k_dense_replace\": " + s.leadingDense() + ", \"routed_scaling_factor\": " + s.scale()
                + ", \"norm_topk_prob\": true, \"rope_interleave\": true, \"rms_norm_eps\": " + EPS
                + ", \"max_position_embeddings\": " + context + ", \"rope_parameters\": {\"rope_theta\": " + s.theta() + ", " + rope + "}}";
    }

    /** Fills the maps with a GPT-OSS checkpoint's tensors; returns its config.json. */
    static String gptOss(Oss s, SplittableRandom r, Map<String, float[]> w, Map<String, long[]> shapes, int context) {
        return gptOss(s, r, w, shapes, context, "\"rope_type\": \"default\"");
    }

    /** As above, with {@code rope} as the rope_parameters entries besides rope_theta. */
    static String gptOss(Oss s, SplittableRandom r, Map<String, float[]> w, Map<String, long[]> shapes, int context, String rope) {
        int d = s.d(), heads = s.heads(), kvHeads = s.kvHeads(), hd = s.hd(), experts = s.experts(), ffn = s.ffn();
        put(w, shapes, r, "model.embed_tokens.weight", 1.0, s.vocab(), d);
        put(w, shapes, r, "lm_head.weight", 0.3, s.vocab(), d);
        putNorm(w, shapes, r, "model.norm.weight", d);
        StringBuilder types = new StringBuilder();
        for (int l = 0; l < s.layers(); l++) {
            String p = "model.layers." + l + ".";
            putNorm(w, shapes, r, p + "input_layernorm.weight", d);
            putNorm(w, shapes, r, p + "post_attention_layernorm.weight", d);
            put(w, shapes, r, p + "self_attn.q_proj.weight", 0.3, heads * hd, d);
            put(w, shapes, r, p + "self_attn.q_proj.bias", 0.1, heads * hd);
            put(w, shapes, r, p + "self_attn.k_proj.weight", 0.3, kvHeads * hd, d);
            put(w, shapes, r, p + "self_attn.k_proj.bias", 0.1, kvHeads * hd);
            put(w, shapes, r, p + "self_attn.v_proj.weight", 0.3, kvHeads * hd, d);
            put(w, shapes, r, p + "self_attn.v_proj.bias", 0.1, kvHeads * hd);
            put(w, shapes, r, p + "self_attn.o_proj.weight", 0.3, d, heads * hd);
            put(w, shapes, r, p + "self_attn.o_proj.bias", 0.1, d);
            put(w, shapes, r, p + "self_attn.sinks", 1.0, heads);
            put(w, shapes, r, p + "mlp.router.weight", 1.0, experts, d);
            put(w, shapes, r, p + "mlp.router.bias", 0.3, experts);
            put(w, shapes, r, p + "mlp.experts.gate_up_proj", 1.5, experts, d, 2L * ffn);   // large enough to hit the clamps
            put(w, shapes, r, p + "mlp.experts.gate_up_proj_bias", 0.3, experts, 2L * ffn);
            put(w, shapes, r, p + "mlp.experts.down_proj", 0.3, experts, ffn, d);
            put(w, shapes, r, p + "mlp.experts.down_proj_bias", 0.1, experts, d);
            types.append(l == 0 ? "" : ", ").append(s.slides(l) ? "\"sliding_attention\"" : "\"full_attention\"");
        }
        return "{\"model_type\": \"gpt_oss\", \"vocab_size\": " + s.vocab() + ", \"hidden_size\": " + d + ", \"num_hidden_layers\": " + s.layers()
                + ", \"num_attention_heads\": " + heads + ", \"num_key_value_heads\": " + kvHeads + ", \"head_dim\": " + hd
                + ", \"num_local_experts\": " + experts + ", \"num_experts_per_tok\": " + s.k() + ", \"intermediate_size\": " + ffn
                + ", \"sliding_window\": " + s.window() + ", \"layer_types\": [" + types + "]"
                + ", \"rms_norm_eps\": " + EPS + ", \"max_position_embeddings\": " + context
                + ", \"rope_parameters\": {\"rope_theta\": " + s.theta() + ", " + rope + "}}";
    }

    /** Writes config.json and the tensors (F32) as one safetensors file into {@code dir}; returns dir. */
    static Path write(Path dir, String config, Map<String, float[]> w, Map<String, long[]> shapes) throws Exception {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("config.json"), config);
        SafetensorsWriter st = new SafetensorsWriter();
        for (var e : w.entrySet()) st.add(e.getKey(), DType.F32, shapes.get(e.getKey()), e.getValue());
        st.write(dir.resolve("model.safetensors"));
        return dir;
    }
}
