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
            throw v.error("unsupported architecture '" + name + "' (supported: " + Architecture.supportedGgufList() + ")");
        }
        arch.checkGguf(v);
        ConfigDraft d = new ConfigDraft(arch, KEYS);
        d.hidden = v.positive("embedding_length");
        d.heads = v.positive("attention.head_count");
        d.headDim = v.positive("attention.key_length", d.hidden / d.heads);
        d.experts = v.positive("expert_count");
        d.denseFfn = v.nonNegative("feed_forward_length", 0);
        d.expertFfn = v.positive("expert_feed_forward_length", d.denseFfn);
        if (d.expertFfn == 0) throw v.error(v.describe("expert_feed_forward_length") + " is missing");
        d.sharedFfn = v.nonNegative("expert_shared_feed_forward_length", 0);
        d.sharedGated = d.sharedFfn > 0;
        d.renormalize = v.bool("expert_weights_norm", arch.renormalizeByDefault);
        d.vocab = v.has("vocab_size") ? v.positive("vocab_size")
                : file.metadata().get("tokenizer.ggml.tokens") instanceof List<?> toks ? toks.size()
                : (int) file.find("token_embd.weight").orElseThrow(() -> v.error("missing tensor 'token_embd.weight'")).dim(0);
        // Each layer has several tensors: a count beyond the file's tensors is corrupt, and is refused before
        // anything is allocated per layer.
        d.layers = v.integer("block_count", 1, Math.max(1, file.names().size()));
        d.dense = new boolean[d.layers];
        d.kvHeads = v.positive("attention.head_count_kv", d.heads);
        d.context = v.positive("context_length", 4096);
        d.normEps = (float) v.number("attention.layer_norm_rms_epsilon");
        d.ropeTheta = v.number("rope.freq_base", 10000.0);
        d.ropeStyle = arch.ggufRopeStyle();
        d.ropeScaling = RopeScalingReader.fromGguf(v, d.context, arch.yarnTruncates());
        d.topK = v.positive("expert_used_count");
        d.tied = file.find("output.weight").isEmpty();
        arch.readGguf(v, d);
        try {
            return d.build();
        } catch (ModelConfig.Invalid e) {
            String key = d.keys.get(e.field);
            throw v.error(v.describe(key) + (v.has(key) ? "" : " (absent: derived from other keys)") + " gives "
                    + e.field.label + " " + e.value + ", which " + e.rule);
        }
    }
}
