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
    RoutingStrategy routing(ModelConfig c, TensorNames names, Weights w, int l) {
        return new GroupLimitedSigmoidTopK(c.topK(), w.optionalVector(names.selectionBias(l), c.experts()),
                c.extras().groups(), c.extras().groupsKept(), c.renormalizeTopK(), c.extras().routedScale());
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
        ModelConfig.Mla mla = c.extras().mla();
        int leading = 0;
        while (leading < c.layers() && c.isDense(leading)) leading++;
        g.putUInt32(p + "leading_dense_block_count", leading);
        if (mla.qLoraRank() > 0) g.putUInt32(p + "attention.q_lora_rank", mla.qLoraRank());
        g.putUInt32(p + "attention.kv_lora_rank", mla.kvLoraRank());
        g.putUInt32(p + "attention.key_length", mla.qkHeadDim());
        g.putUInt32(p + "attention.value_length", mla.vDim());
        g.putUInt32(p + "rope.dimension_count", mla.ropeDim());
        g.putUInt32(p + "expert_shared_count", c.sharedExpertFfn() / c.expertFfn());
        g.putFloat32(p + "expert_weights_scale", c.extras().routedScale());
        g.putUInt32(p + "expert_gating_func", 2); // sigmoid
        g.putUInt32(p + "expert_group_count", c.extras().groups());
        g.putUInt32(p + "expert_group_used_count", c.extras().groupsKept());
    }
}
