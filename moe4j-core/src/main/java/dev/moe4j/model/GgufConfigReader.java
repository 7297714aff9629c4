package dev.moe4j.model;

import dev.moe4j.tensor.TensorStore;
import dev.moe4j.util.Moe4jException;

import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * Reads a {@link ModelConfig} from GGUF metadata ({@code {arch}.*} keys as llama.cpp writes them). Every key
 * is type- and range-checked, counts against the tensors present before anything is allocated for them,
 * and an invalid hyper-parameter is reported under its key.
 */
public final class GgufConfigReader {
    /** The key (under the architecture's prefix) that holds each hyper-parameter, for messages. */
    private static final Map<ModelConfig.Field, String> KEYS = new EnumMap<>(Map.ofEntries(
            Map.entry(ModelConfig.Field.VOCAB, "vocab_size"), Map.entry(ModelConfig.Field.HIDDEN, "embedding_length"),
            Map.entry(ModelConfig.Field.LAYERS, "block_count"), Map.entry(ModelConfig.Field.HEADS, "attention.head_count"),
            Map.entry(ModelConfig.Field.KV_HEADS, "attention.head_count_kv"), Map.entry(ModelConfig.Field.HEAD_DIM, "attention.key_length"),
            Map.entry(ModelConfig.Field.CONTEXT, "context_length"),
            Map.entry(ModelConfig.Field.NORM_EPS, "attention.layer_norm_rms_epsilon"),
            Map.entry(ModelConfig.Field.ROPE_THETA, "rope.freq_base"), Map.entry(ModelConfig.Field.EXPERTS, "expert_count"),
            Map.entry(ModelConfig.Field.TOP_K, "expert_used_count"), Map.entry(ModelConfig.Field.EXPERT_FFN, "expert_feed_forward_length"),
            Map.entry(ModelConfig.Field.SHARED_FFN, "expert_shared_feed_forward_length"),
            Map.entry(ModelConfig.Field.DENSE_FFN, "feed_forward_length"), Map.entry(ModelConfig.Field.GROUPS, "expert_group_count"),
            Map.entry(ModelConfig.Field.GROUPS_KEPT, "expert_group_used_count"),
            Map.entry(ModelConfig.Field.ROUTED_SCALE, "expert_weights_scale"),
            Map.entry(ModelConfig.Field.Q_LORA_RANK, "attention.q_lora_rank"),
            Map.entry(ModelConfig.Field.KV_LORA_RANK, "attention.kv_lora_rank"),
            Map.entry(ModelConfig.Field.NOPE_DIM, "attention.key_length"), Map.entry(ModelConfig.Field.ROPE_DIM, "rope.dimension_count"),
            Map.entry(ModelConfig.Field.V_DIM, "attention.value_length"),
            Map.entry(ModelConfig.Field.SLIDING_WINDOW, "attention.sliding_window"),
            Map.entry(ModelConfig.Field.SWIGLU_LIMIT, "swiglu_limit")));

    private final TensorStore file;
    private ConfigValues v;

    private GgufConfigReader(TensorStore file) {
        this.file = file;
    }

    /** @throws Moe4jException naming the file and the key for a missing, mistyped or out-of-range value */
    public static ModelConfig read(TensorStore gguf) {
        return new GgufConfigReader(gguf).read();
    }

    private ModelConfig read() {
        String name = ConfigValues.gguf(file.source(), file.metadata(), "").string("general.architecture");
        v = ConfigValues.gguf(file.source(), file.metadata(), name + ".");
        Architecture arch = Architecture.fromGgufName(name);
        if (arch == null) {
            throw v.error("unsupported architecture '" + name + "' (supported: llama with experts, qwen2moe, qwen3moe, olmoe, deepseek2)");
        }
        if (arch == Architecture.GPT_OSS) {
            throw v.error("gpt-oss GGUF files (MXFP4 experts) are not supported yet; use the Hugging Face folder");
        }
        if (arch == Architecture.MIXTRAL && !v.has("expert_count")) {
            throw v.error("architecture 'llama' without 'llama.expert_count' is a dense model, not a Mixture-of-Experts model");
        }
        int hidden = v.positive("embedding_length");
        int heads = v.positive("attention.head_count");
        int headDim = v.positive("attention.key_length", hidden / heads);
        int experts = v.positive("expert_count");
        int ffn = v.nonNegative("feed_forward_length", 0);
        int expertFfn = v.positive("expert_feed_forward_length", ffn);
        if (expertFfn == 0) throw v.error(v.describe("expert_feed_forward_length") + " is missing");
        int sharedFfn = v.nonNegative("expert_shared_feed_forward_length", 0);
        boolean renorm = v.bool("expert_weights_norm", arch.renormalizeByDefault);
        int vocab = v.has("vocab_size") ? v.positive("vocab_size")
                : file.metadata().get("tokenizer.ggml.tokens") instanceof List<?> toks ? toks.size()
                : (int) file.find("token_embd.weight").orElseThrow(() -> v.error("missing tensor 'token_embd.weight'")).dim(0);
        // Each layer has several tensors: a count beyond the file's tensors is corrupt, and is refused before
        // anything is allocated per layer.
        int layers = v.integer("block_count", 1, Math.max(1, file.names().size()));
        int ropeDim = v.positive("rope.dimension_count", headDim);
        boolean[] dense = new boolean[layers];
        boolean sharedGated = sharedFfn > 0;
        ModelConfig.Extras extras = ModelConfig.Extras.NONE;
        if (arch == Architecture.DEEPSEEK_V3) {
            String scaling = v.string("rope.scaling.type", "none");
            if (!scaling.equals("none")) throw v.error("rope scaling '" + scaling + "' is not supported yet");
            // As llama.cpp, these are required: no default could be right for a DeepSeek file that lacks them.
            int leading = v.integer("leading_dense_block_count", 0, layers);
            for (int l = 0; l < leading; l++) dense[l] = true;
            sharedFfn = v.integer("expert_shared_count", 0, Integer.MAX_VALUE / expertFfn) * expertFfn;
            sharedGated = false;
            if (v.positive("expert_gating_func", 2) != 2) throw v.error("deepseek2 with softmax gating (DeepSeek-V2) is not supported yet");
            int kvRank = v.positive("attention.kv_lora_rank");
            int qRank = v.nonNegative("attention.q_lora_rank", 0);
            ModelConfig.Mla mla = new ModelConfig.Mla(qRank, kvRank, headDim - ropeDim, ropeDim,
                    v.positive("attention.value_length", headDim - ropeDim));
            extras = new ModelConfig.Extras(v.positive("expert_group_count", 1), v.positive("expert_group_used_count", 1),
                    (float) v.number("expert_weights_scale"), mla, 0, null, 0f, 0f);
        } else if (ropeDim != headDim) {
            throw v.error("partial rotary embedding (" + v.describe("rope.dimension_count") + " is " + ropeDim + ", head dimension "
                    + headDim + ") is not supported");
        }
        try {
            return new ModelConfig(arch, vocab, hidden, layers, heads, v.positive("attention.head_count_kv", heads), headDim,
                    v.positive("context_length", 4096), (float) v.number("attention.layer_norm_rms_epsilon"),
                    v.number("rope.freq_base", 10000.0),
                    arch == Architecture.MIXTRAL || arch == Architecture.DEEPSEEK_V3 ? RopeStyle.ADJACENT : RopeStyle.HALF,
                    experts, v.positive("expert_used_count"), expertFfn, renorm, sharedFfn, sharedGated, ffn,
                    dense, file.find("output.weight").isEmpty(), extras);
        } catch (ModelConfig.Invalid e) {
            String key = KEYS.get(e.field);
            if (arch == Architecture.DEEPSEEK_V3 && e.field == ModelConfig.Field.SHARED_FFN) key = "expert_shared_count";
            throw v.error(v.describe(key) + (v.has(key) ? "" : " (absent: derived from other keys)") + " gives "
                    + e.field.label + " " + e.value + ", which " + e.rule);
        }
    }
}
