package dev.moe4j.cli.perf;

import dev.moe4j.model.Architecture;
import dev.moe4j.model.ModelConfig;
import dev.moe4j.model.RopeScaling;
import dev.moe4j.model.RopeStyle;

import java.util.List;

/**
 * Published MoE shapes for random-weight benchmark files. {@code arch} is the GGUF architecture
 * (llama.cpp's name); {@code qkNorm} is none, whole (OLMoE) or per-head (Qwen3-MoE); {@code slidingWindow} is
 * gpt-oss's window on every other layer (0: none).
 */
public record SynthShape(String name, String arch, int layers, int hidden, int heads, int kvHeads, int headDim,
                         int experts, int topK, int expertFfn, int vocab, int context, double ropeTheta, float normEps,
                         String qkNorm, int slidingWindow) {

    public SynthShape(String name, String arch, int layers, int hidden, int heads, int kvHeads, int headDim, int experts, int topK,
                      int expertFfn, int vocab, int context, double ropeTheta, float normEps, String qkNorm) {
        this(name, arch, layers, hidden, heads, kvHeads, headDim, experts, topK, expertFfn, vocab, context, ropeTheta, normEps, qkNorm, 0);
    }

    public static final List<SynthShape> ALL = List.of(
            // allenai/OLMoE-1B-7B-0924
            new SynthShape("olmoe-1b-7b", "olmoe", 16, 2048, 16, 16, 128, 64, 8, 1024, 50304, 4096, 10000, 1e-5f, "whole"),
            new SynthShape("olmoe-mini", "olmoe", 8, 1024, 16, 16, 64, 32, 4, 512, 32000, 4096, 10000, 1e-5f, "whole"),
            // mistralai/Mixtral-8x7B-v0.1
            new SynthShape("mixtral-8x7b", "llama", 32, 4096, 32, 8, 128, 8, 2, 14336, 32000, 32768, 1e6, 1e-5f, "none"),
            // Qwen/Qwen3-30B-A3B
            new SynthShape("qwen3-30b-a3b", "qwen3moe", 48, 2048, 32, 4, 128, 128, 8, 768, 151936, 40960, 1e6, 1e-6f, "per-head"),
            // openai/gpt-oss-20b; context is its initial_context_length (the published YaRN extension to 131072 is not written)
            new SynthShape("gpt-oss-20b", "gpt-oss", 24, 2880, 64, 8, 64, 32, 4, 2880, 201088, 4096, 150000, 1e-5f, "none", 128),
            // For tests: every width a multiple of 256 so K-quants apply.
            new SynthShape("tiny", "olmoe", 2, 256, 4, 2, 64, 8, 2, 256, 1000, 512, 10000, 1e-5f, "whole"),
            new SynthShape("gpt-oss-tiny", "gpt-oss", 2, 64, 4, 2, 16, 4, 2, 64, 1000, 512, 150000, 1e-5f, "none", 8));

    public static SynthShape named(String name) {
        for (SynthShape s : ALL) if (s.name.equals(name)) return s;
        throw new IllegalArgumentException("unknown shape '" + name + "' (known: "
                + String.join(", ", ALL.stream().map(SynthShape::name).toList()) + ")");
    }

    /** The shape as a model configuration (for its GGUF metadata). */
    public ModelConfig toConfig() {
        Architecture a = Architecture.fromGgufName(arch);
        if (slidingWindow > 0) {   // gpt-oss: even layers slide; clamped SwiGLU with transformers' constants
            boolean[] sliding = new boolean[layers];
            for (int l = 0; l < layers; l += 2) sliding[l] = true;
            return new ModelConfig(a, vocab, hidden, layers, context, normEps, false,
                    new ModelConfig.AttentionSpec(heads, kvHeads, headDim, ropeTheta, a.ggufRopeStyle(), null, slidingWindow, sliding,
                            RopeScaling.NONE),   // the 4096-token context of the shape needs no yarn
                    new ModelConfig.MoeSpec(experts, topK, expertFfn, a.renormalizeByDefault, 0, false, 1, 1, 1f, 1.702f, 7f),
                    new ModelConfig.DenseSpec(expertFfn, null));
        }
        return new ModelConfig(a, vocab, hidden, layers, context, normEps, false,
                new ModelConfig.AttentionSpec(heads, kvHeads, headDim, ropeTheta, a.ggufRopeStyle()),
                new ModelConfig.MoeSpec(experts, topK, expertFfn, a.renormalizeByDefault, 0, false),
                new ModelConfig.DenseSpec(expertFfn, null));
    }

    public int qDim() { return heads * headDim; }
    public int kvDim() { return kvHeads * headDim; }
}
