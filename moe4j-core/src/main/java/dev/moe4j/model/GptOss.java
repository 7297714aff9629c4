package dev.moe4j.model;

import dev.moe4j.moe.ExpertBank;
import dev.moe4j.moe.RoutingStrategy;
import dev.moe4j.moe.TopKSoftmax;
import dev.moe4j.util.Moe4jException;

import java.nio.file.Path;
import java.util.List;

/**
 * gpt-oss ({@code gpt_oss}, GGUF {@code gpt-oss}): a router with a bias, top-k of the logits then softmax over the k,
 * attention with biases and per-head sinks, alternating sliding-window layers, biased clamped-SwiGLU experts.
 */
final class GptOss extends Architecture {
    GptOss() {
        super("gpt_oss", "gpt-oss", QkNorm.NONE, true);
    }

    @Override
    void readHf(ConfigValues v, ConfigDraft d) {
        List<?> layerTypes = v.list("layer_types");
        boolean[] sliding = new boolean[d.layers];
        for (int l = 0; l < d.layers; l++) {
            if (layerTypes == null) {
                sliding[l] = l % 2 == 0;
            } else if (layerTypes.get(l) instanceof String t && (t.equals("sliding_attention") || t.equals("full_attention"))) {
                sliding[l] = t.equals("sliding_attention");
            } else {
                throw v.error("field 'layer_types' entry " + l + " is " + ConfigValues.show(layerTypes.get(l))
                        + "; expected \"sliding_attention\" or \"full_attention\"");
            }
        }
        d.slidingWindow = v.positive("sliding_window");
        d.slidingLayers = sliding;
        d.swigluAlpha = 1.702f;   // fixed in transformers' GptOssExperts
        d.swigluLimit = (float) v.number("swiglu_limit", 7.0);
    }

    @Override
    void validate(ModelConfig.AttentionSpec attention, ModelConfig.MoeSpec moe) {
        ModelConfig.check(moe.swigluLimit() > 0, ModelConfig.Field.SWIGLU_LIMIT, moe.swigluLimit(), "must be a finite number > 0");
    }

    @Override boolean readsGguf() { return false; }

    @Override
    void checkGguf(ConfigValues v) {
        throw v.error("gpt-oss GGUF files (MXFP4 experts) are not supported yet; use the Hugging Face folder");
    }

    @Override
    RoutingStrategy routing(ModelConfig c, TensorNames names, Weights w, int l) {
        return new TopKSoftmax(c.topK());
    }

    @Override boolean routerHasBias() { return true; }

    @Override boolean yarnTruncates() { return false; }   // gpt-oss's published rope scaling: "truncate": false

    @Override String hfRouterModule() { return "router"; }

    @Override
    ExpertBank experts(ModelConfig c, TensorNames names, Weights w, int l) {
        return GptOssExperts.load(c, names, w, l);
    }

    @Override
    long attentionExtraParameters(ModelConfig c) {
        return c.qDim() + 2L * c.kvDim() + c.hidden() + c.heads();   // q/k/v/o biases, sinks
    }

    @Override
    long expertExtraParameters(ModelConfig c) {
        return 2L * c.expertFfn() + c.hidden();   // gate, up and down biases
    }

    @Override
    void checkGgufWritable(Path dir, ModelConfig c) {
        throw new Moe4jException(dir + ": gpt_oss cannot be written as GGUF yet (moe4j reads gpt-oss only from safetensors)");
    }
}
