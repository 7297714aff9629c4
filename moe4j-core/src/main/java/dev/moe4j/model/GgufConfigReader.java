package dev.moe4j.model;

import dev.moe4j.tensor.TensorStore;
import dev.moe4j.util.Moe4jException;

import java.util.List;
import java.util.Map;

/** Reads a {@link ModelConfig} from GGUF metadata ({@code {arch}.*} keys as llama.cpp writes them). */
public final class GgufConfigReader {
    private final TensorStore file;
    private final Map<String, Object> m;
    private String prefix;

    private GgufConfigReader(TensorStore file) {
        this.file = file;
        this.m = file.metadata();
    }

    public static ModelConfig read(TensorStore gguf) {
        return new GgufConfigReader(gguf).read();
    }

    private ModelConfig read() {
        if (!(m.get("general.architecture") instanceof String name)) {
            throw error("missing metadata 'general.architecture'");
        }
        prefix = name + ".";
        Architecture arch = Architecture.fromGgufName(name);
        if (arch == null) {
            throw error("unsupported architecture '" + name + "' (supported: llama with experts, qwen2moe, qwen3moe, olmoe, deepseek2)");
        }
        if (arch == Architecture.GPT_OSS) {
            throw error("gpt-oss GGUF files (MXFP4 experts) are not supported yet; use the Hugging Face folder");
        }
        if (arch == Architecture.MIXTRAL && !m.containsKey(prefix + "expert_count")) {
            throw error("architecture 'llama' without 'llama.expert_count' is a dense model, not a Mixture-of-Experts model");
        }
        int hidden = integer("embedding_length");
        int heads = integer("attention.head_count");
        int headDim = optInt("attention.key_length", hidden / heads);
        int experts = integer("expert_count");
        int ffn = optInt("feed_forward_length", 0);
        int expertFfn = optInt("expert_feed_forward_length", ffn);
        if (expertFfn == 0) throw error("missing metadata '" + prefix + "expert_feed_forward_length'");
        int sharedFfn = optInt("expert_shared_feed_forward_length", 0);
        boolean renorm = m.get(prefix + "expert_weights_norm") instanceof Boolean b ? b : arch.renormalizeByDefault;
        int vocab = m.get(prefix + "vocab_size") != null ? integer("vocab_size")
                : m.get("tokenizer.ggml.tokens") instanceof List<?> toks ? toks.size()
                : (int) file.find("token_embd.weight").orElseThrow(() -> error("missing tensor 'token_embd.weight'")).dim(0);
        int layers = integer("block_count");
        int ropeDim = optInt("rope.dimension_count", headDim);
        boolean[] dense = new boolean[layers];
        boolean sharedGated = sharedFfn > 0;
        ModelConfig.Extras extras = ModelConfig.Extras.NONE;
        if (arch == Architecture.DEEPSEEK_V3) {
            if (m.get(prefix + "rope.scaling.type") instanceof String t && !t.equals("none")) {
                throw error("rope scaling '" + t + "' is not supported yet");
            }
            int leading = m.get(prefix + "leading_dense_block_count") == null ? 0 : (int) ((Number) m.get(prefix + "leading_dense_block_count")).longValue();
            for (int l = 0; l < Math.min(leading, layers); l++) dense[l] = true;
            sharedFfn = optInt("expert_shared_count", 0) * expertFfn;
            sharedGated = false;
            if (optInt("expert_gating_func", 2) != 2) throw error("deepseek2 with softmax gating (DeepSeek-V2) is not supported yet");
            int kvRank = integer("attention.kv_lora_rank");
            int qRank = m.get(prefix + "attention.q_lora_rank") == null ? 0 : integer("attention.q_lora_rank");
            ModelConfig.Mla mla = new ModelConfig.Mla(qRank, kvRank, headDim - ropeDim, ropeDim, optInt("attention.value_length", headDim - ropeDim));
            extras = new ModelConfig.Extras(optInt("expert_group_count", 1), optInt("expert_group_used_count", 1),
                    (float) number("expert_weights_scale", 1.0), mla, 0, null, 0f, 0f);
        } else if (ropeDim != headDim) {
            throw error("partial rotary embedding (rope.dimension_count " + ropeDim + " < head_dim " + headDim + ") is not supported");
        }
        return new ModelConfig(arch, vocab, hidden, layers, heads, optInt("attention.head_count_kv", heads), headDim,
                optInt("context_length", 4096), (float) number("attention.layer_norm_rms_epsilon", 1e-6),
                number("rope.freq_base", 10000.0),
                arch.ggufRopeStyle(),
                experts, integer("expert_used_count"), expertFfn, renorm, sharedFfn, sharedGated, ffn,
                dense, !file.find("output.weight").isPresent(), extras);
    }

    private Moe4jException error(String msg) {
        return new Moe4jException(file.source() + ": " + msg);
    }

    private int integer(String key) {
        Object v = m.get(prefix + key);
        if (!(v instanceof Number n)) throw error("missing or non-integer metadata '" + prefix + key + "'");
        long x = n.longValue();
        if (x <= 0 || x > Integer.MAX_VALUE) throw error("metadata '" + prefix + key + "' out of range: " + x);
        return (int) x;
    }

    private int optInt(String key, int dflt) {
        return m.get(prefix + key) == null ? dflt : integer(key);
    }

    private double number(String key, double dflt) {
        Object v = m.get(prefix + key);
        if (v == null) return dflt;
        if (!(v instanceof Number n)) throw error("metadata '" + prefix + key + "' is not a number");
        return n.doubleValue();
    }
}
