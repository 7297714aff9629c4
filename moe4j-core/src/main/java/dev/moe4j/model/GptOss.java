package dev.moe4j.model;

import dev.moe4j.moe.ExpertBank;
import dev.moe4j.moe.RoutingStrategy;
import dev.moe4j.moe.TopKSoftmax;
import dev.moe4j.util.Moe4jException;

import java.nio.file.Path;

/**
 * gpt-oss ({@code gpt_oss}, GGUF {@code gpt-oss}): a router with a bias, top-k of the logits then softmax over the k,
 * attention with biases and per-head sinks, alternating sliding-window layers, biased clamped-SwiGLU experts.
 */
final class GptOss extends Architecture {
    GptOss() {
        super("gpt_oss", "gpt-oss", QkNorm.NONE, true);
    }

    @Override
    RoutingStrategy routing(ModelConfig c, TensorNames names, Weights w, int l) {
        return new TopKSoftmax(c.topK());
    }

    @Override boolean routerHasBias() { return true; }

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
