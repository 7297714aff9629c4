package dev.moe4j.model;

import dev.moe4j.format.gguf.GgufWriter;

/**
 * Writes a {@link ModelConfig} as the {@code {arch}.*} GGUF metadata llama.cpp reads — the inverse of
 * {@link GgufConfigReader}. Used by every writer of model files (conversion, synth, export).
 */
public final class GgufConfigWriter {
    private GgufConfigWriter() {}

    public static void write(ModelConfig c, String name, GgufWriter g) {
        String a = c.architecture().ggufName, p = a + ".";
        g.putString("general.architecture", a);
        g.putString("general.name", name);
        g.putUInt32(p + "block_count", c.layers());
        g.putUInt32(p + "context_length", c.contextLength());
        g.putUInt32(p + "embedding_length", c.hidden());
        g.putUInt32(p + "feed_forward_length", c.denseFfn());
        g.putUInt32(p + "attention.head_count", c.heads());
        g.putUInt32(p + "attention.head_count_kv", c.kvHeads());
        g.putFloat32(p + "rope.freq_base", (float) c.ropeTheta());
        RopeScalingReader.writeGguf(c.ropeScaling(), p, g);
        g.putFloat32(p + "attention.layer_norm_rms_epsilon", c.normEps());
        g.putUInt32(p + "expert_count", c.experts());
        g.putUInt32(p + "expert_used_count", c.topK());
        g.putUInt32(p + "expert_feed_forward_length", c.expertFfn());
        g.putBool(p + "expert_weights_norm", c.renormalizeTopK());
        g.putUInt32(p + "vocab_size", c.vocabSize());
        c.architecture().writeGgufKeys(c, p, g);
    }
}
