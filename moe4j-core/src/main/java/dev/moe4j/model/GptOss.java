package dev.moe4j.model;

import dev.moe4j.moe.ExpertBank;
import dev.moe4j.moe.RoutingStrategy;
import dev.moe4j.moe.TopKSoftmax;
import dev.moe4j.util.Moe4jException;

import dev.moe4j.format.gguf.GgufWriter;
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

    /**
     * llama.cpp's {@code gpt-oss} keys: {@code attention.sliding_window}, and {@code attention.sliding_window_pattern}
     * (default 2: every layer l with l % 2 == 0 slides, as in the published configs). Its SwiGLU constants are
     * fixed (alpha 1.702, limit 7), as in llama.cpp's graph.
     */
    @Override
    void readGguf(ConfigValues v, ConfigDraft d) {
        super.readGguf(v, d);
        if (v.has("rope.freq_base_swa") && v.number("rope.freq_base_swa") != d.ropeTheta)
            throw v.error(v.describe("rope.freq_base_swa") + " differs from rope.freq_base; one RoPE base for all layers is supported");
        int period = v.positive("attention.sliding_window_pattern", 2);
        boolean[] sliding = new boolean[d.layers];
        for (int l = 0; l < d.layers; l++) sliding[l] = l % period < period - 1;
        d.slidingWindow = v.positive("attention.sliding_window");
        d.slidingLayers = sliding;
        d.swigluAlpha = 1.702f;
        d.swigluLimit = 7f;
    }

    /** llama.cpp names the norm before the experts {@code post_attention_norm}. */
    @Override
    public TensorNames ggufNames() {
        return new GgufTensorNames() {
            @Override public String ffnNorm(int l) { return "blk." + l + ".post_attention_norm.weight"; }
        };
    }

    @Override
    void writeGgufKeys(ModelConfig c, String p, GgufWriter g) {
        super.writeGgufKeys(c, p, g);
        int window = 0;
        for (int l = 0; l < c.layers(); l++) {
            boolean slides = c.attention().slides(l);
            if (slides) window = c.attention().slidingWindow();
            if (slides != (l % 2 == 0))
                throw new Moe4jException("gpt-oss: layer " + l + (slides ? " slides" : " does not slide")
                        + "; llama.cpp's gpt-oss has every even layer sliding and no other pattern");
        }
        g.putUInt32(p + "attention.sliding_window", window);
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
}
