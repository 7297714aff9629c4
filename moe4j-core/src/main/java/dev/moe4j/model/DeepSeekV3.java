package dev.moe4j.model;

import dev.moe4j.format.gguf.GgufWriter;
import dev.moe4j.moe.GroupLimitedSigmoidTopK;
import dev.moe4j.moe.RoutingStrategy;
import dev.moe4j.util.Moe4jException;

import java.nio.file.Path;

/**
 * DeepSeek-V3 / R1 ({@code deepseek_v3}, GGUF {@code deepseek2}): multi-head latent attention, sigmoid scores with a
 * selection bias and group-limited top-k scaled by {@code routed_scaling_factor}, shared experts, leading dense layers.
 */
final class DeepSeekV3 extends Architecture {
    DeepSeekV3() {
        super("deepseek_v3", "deepseek2", QkNorm.NONE, true);
    }

    @Override
    void readHf(ConfigValues v, ConfigDraft d) {
        // Required: transformers' default is 3 leading dense layers, not 0 (the reader has applied the value).
        v.integer("first_k_dense_replace", 0, d.layers);
        ModelConfig.Mla mla = new ModelConfig.Mla(v.nonNegative("q_lora_rank", 0), v.positive("kv_lora_rank"),
                v.integer("qk_nope_head_dim", 0, Integer.MAX_VALUE / 2), v.integer("qk_rope_head_dim", 1, Integer.MAX_VALUE / 2),
                v.positive("v_head_dim"));
        d.headDim = mla.qkHeadDim();
        d.keys.put(ModelConfig.Field.HEAD_DIM, "qk_nope_head_dim");
        d.keys.put(ModelConfig.Field.SHARED_FFN, "n_shared_experts");
        d.sharedFfn = v.integer("n_shared_experts", 0, Integer.MAX_VALUE / d.expertFfn) * d.expertFfn;
        d.sharedGated = false;
        d.ropeStyle = v.bool("rope_interleave", true) ? RopeStyle.ADJACENT : RopeStyle.HALF;
        // Required: transformers' defaults for these (8 groups, 4 kept, scale 2.5) are not "no grouping".
        d.mla = mla;
        d.groups = v.positive("n_group");
        d.groupsKept = v.positive("topk_group");
        d.routedScale = (float) v.number("routed_scaling_factor");
    }

    /**
     * Reads both GGUF layouts of latent attention: the legacy one (one {@code attn_kv_b}; key/value lengths per head)
     * and today's converter's (split {@code attn_k_b}/{@code attn_v_b}, written as MQA over the latent: one KV head,
     * key length rank + rope, value length rank, and the per-head sizes in {@code attention.key_length_mla} /
     * {@code value_length_mla}). llama.cpp's {@code rope.scaling.yarn_log_multiplier} is {@code 0.1 · mscale_all_dim}
     * (its DeepSeek loader divides by 0.1 and takes mscale = mscale_all_dim).
     */
    @Override
    void readGguf(ConfigValues v, ConfigDraft d) {
        if (v.has("rope.scaling.yarn_log_multiplier") && d.ropeScaling.type() != RopeScaling.Type.NONE) {
            double logMul = v.number("rope.scaling.yarn_log_multiplier");
            if (logMul < 0) throw v.bad("rope.scaling.yarn_log_multiplier", "a number >= 0");
            d.ropeScaling = RopeScalingReader.withMscale(d.ropeScaling, logMul / 0.1, logMul / 0.1);
        }
        boolean mqaLayout = v.has("attention.key_length_mla");
        if (mqaLayout) {
            d.headDim = v.positive("attention.key_length_mla");
            d.keys.put(ModelConfig.Field.HEAD_DIM, "attention.key_length_mla");
            d.kvHeads = d.heads;   // the file's single KV head is the latent
        }
        // As llama.cpp, these are required: no default could be right for a DeepSeek file that lacks them.
        int leading = v.integer("leading_dense_block_count", 0, d.layers);
        for (int l = 0; l < leading; l++) d.dense[l] = true;
        d.sharedFfn = v.integer("expert_shared_count", 0, Integer.MAX_VALUE / d.expertFfn) * d.expertFfn;
        d.keys.put(ModelConfig.Field.SHARED_FFN, "expert_shared_count");
        d.sharedGated = false;
        if (v.positive("expert_gating_func", 2) != 2) throw v.error("deepseek2 with softmax gating (DeepSeek-V2) is not supported yet");
        int ropeDim = v.positive("rope.dimension_count", d.headDim);
        if (ropeDim >= d.headDim) throw v.error(v.describe("rope.dimension_count") + " is " + ropeDim
                + ", not less than the key length " + d.headDim);
        String vKey = mqaLayout ? "attention.value_length_mla" : "attention.value_length";
        ModelConfig.Mla mla = new ModelConfig.Mla(v.nonNegative("attention.q_lora_rank", 0), v.positive("attention.kv_lora_rank"),
                d.headDim - ropeDim, ropeDim, v.positive(vKey, d.headDim - ropeDim));
        if (mqaLayout) {
            d.keys.put(ModelConfig.Field.V_DIM, vKey);
            int rank = mla.kvLoraRank();
            if (v.positive("attention.key_length") != rank + ropeDim || v.positive("attention.value_length") != rank) {
                throw v.error(v.describe("attention.key_length") + " / value_length must be kv_lora_rank + rope ("
                        + (rank + ropeDim) + ") / kv_lora_rank (" + rank + ") beside attention.key_length_mla");
            }
        }
        d.mla = mla;
        d.groups = v.positive("expert_group_count", 1);
        d.groupsKept = v.positive("expert_group_used_count", 1);
        d.routedScale = (float) v.number("expert_weights_scale");
    }

    /**
     * As transformers' DeepseekV3Attention: with any rope scaling whose {@code mscale_all_dim} is set, the softmax
     * scale is multiplied by {@code get_mscale(factor, mscale_all_dim)²} (the rotated parts keep their own factor).
     */
    @Override
    double attentionScale(ModelConfig c) {
        RopeScaling s = c.ropeScaling();
        double m = s.type() != RopeScaling.Type.NONE && s.mscaleAllDim() != 0 ? RopeScaling.yarnMscale(s.factor(), s.mscaleAllDim()) : 1;
        return super.attentionScale(c) * m * m;
    }

    @Override
    RoutingStrategy routing(ModelConfig c, TensorNames names, Weights w, int l) {
        return new GroupLimitedSigmoidTopK(c.topK(), w.optionalVector(names.selectionBias(l), c.experts()),
                c.moe().groups(), c.moe().groupsKept(), c.renormalizeTopK(), c.moe().routedScale());
    }

    @Override boolean routerHasBias() { return true; }   // the selection bias (e_score_correction_bias)

    @Override String hfSharedExpertModule() { return "shared_experts"; }

    @Override public RopeStyle ggufRopeStyle() { return RopeStyle.ADJACENT; }

    @Override
    void checkGgufWritable(Path dir, ModelConfig c) {
        for (int l = 1; l < c.layers(); l++) {
            if (c.isDense(l) && !c.isDense(l - 1)) {
                throw new Moe4jException(dir + ": dense layers after MoE layers have no GGUF metadata key (only leading ones)");
            }
        }
        if (c.ropeStyle() != RopeStyle.ADJACENT) {
            throw new Moe4jException(dir + ": deepseek_v3 with rope_interleave=false cannot be written as GGUF yet");
        }
    }

    @Override
    void writeGgufKeys(ModelConfig c, String p, GgufWriter g) {
        ModelConfig.Mla mla = c.attention().mla();
        int leading = 0;
        while (leading < c.layers() && c.isDense(leading)) leading++;
        g.putUInt32(p + "leading_dense_block_count", leading);
        if (mla.qLoraRank() > 0) g.putUInt32(p + "attention.q_lora_rank", mla.qLoraRank());
        g.putUInt32(p + "attention.kv_lora_rank", mla.kvLoraRank());
        // Today's converter layout (split attn_k_b / attn_v_b): MQA over the latent, per-head sizes in the *_mla keys.
        g.putUInt32(p + "attention.head_count_kv", 1);
        g.putUInt32(p + "attention.key_length", mla.kvLoraRank() + mla.ropeDim());
        g.putUInt32(p + "attention.value_length", mla.kvLoraRank());
        g.putUInt32(p + "attention.key_length_mla", mla.qkHeadDim());
        g.putUInt32(p + "attention.value_length_mla", mla.vDim());
        g.putUInt32(p + "rope.dimension_count", mla.ropeDim());
        RopeScaling s = c.ropeScaling();
        if (s.type() != RopeScaling.Type.NONE && s.mscaleAllDim() != 0) {
            g.putFloat32(p + "rope.scaling.yarn_log_multiplier", (float) (0.1 * s.mscaleAllDim()));   // as the converter writes it
        }
        g.putUInt32(p + "expert_shared_count", c.sharedExpertFfn() / c.expertFfn());
        g.putFloat32(p + "expert_weights_scale", c.moe().routedScale());
        g.putUInt32(p + "expert_gating_func", 2); // sigmoid
        g.putUInt32(p + "expert_group_count", c.moe().groups());
        g.putUInt32(p + "expert_group_used_count", c.moe().groupsKept());
    }
}
