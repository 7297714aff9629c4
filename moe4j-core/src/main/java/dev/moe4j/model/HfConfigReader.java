package dev.moe4j.model;

import dev.moe4j.tensor.TensorStore;
import dev.moe4j.util.Json;
import dev.moe4j.util.Moe4jException;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads a Hugging Face {@code config.json} into a {@link ModelConfig}. Every field is type- and range-checked,
 * the layer count against the checkpoint's tensors before anything is allocated per layer, and an invalid
 * hyper-parameter is reported under the field that holds it.
 */
public final class HfConfigReader {
    private final ConfigValues v;
    private final int tensorCount;
    /** The field each hyper-parameter was read from (several have alternatives), for messages. */
    private final Map<ModelConfig.Field, String> keys = new EnumMap<>(Map.ofEntries(
            Map.entry(ModelConfig.Field.VOCAB, "vocab_size"), Map.entry(ModelConfig.Field.HIDDEN, "hidden_size"),
            Map.entry(ModelConfig.Field.LAYERS, "num_hidden_layers"), Map.entry(ModelConfig.Field.HEADS, "num_attention_heads"),
            Map.entry(ModelConfig.Field.KV_HEADS, "num_key_value_heads"), Map.entry(ModelConfig.Field.HEAD_DIM, "head_dim"),
            Map.entry(ModelConfig.Field.CONTEXT, "max_position_embeddings"), Map.entry(ModelConfig.Field.NORM_EPS, "rms_norm_eps"),
            Map.entry(ModelConfig.Field.ROPE_THETA, "rope_theta"), Map.entry(ModelConfig.Field.EXPERTS, "num_experts"),
            Map.entry(ModelConfig.Field.TOP_K, "num_experts_per_tok"), Map.entry(ModelConfig.Field.EXPERT_FFN, "moe_intermediate_size"),
            Map.entry(ModelConfig.Field.SHARED_FFN, "shared_expert_intermediate_size"),
            Map.entry(ModelConfig.Field.DENSE_FFN, "intermediate_size"), Map.entry(ModelConfig.Field.GROUPS, "n_group"),
            Map.entry(ModelConfig.Field.GROUPS_KEPT, "topk_group"), Map.entry(ModelConfig.Field.ROUTED_SCALE, "routed_scaling_factor"),
            Map.entry(ModelConfig.Field.Q_LORA_RANK, "q_lora_rank"), Map.entry(ModelConfig.Field.KV_LORA_RANK, "kv_lora_rank"),
            Map.entry(ModelConfig.Field.NOPE_DIM, "qk_nope_head_dim"), Map.entry(ModelConfig.Field.ROPE_DIM, "qk_rope_head_dim"),
            Map.entry(ModelConfig.Field.V_DIM, "v_head_dim"), Map.entry(ModelConfig.Field.SLIDING_WINDOW, "sliding_window"),
            Map.entry(ModelConfig.Field.SWIGLU_LIMIT, "swiglu_limit")));

    /** Fields transformers reads null as "absent" (derive or default); other fields may not be null. */
    private static final Set<String> NULLABLE = Set.of("head_dim", "num_key_value_heads", "q_lora_rank", "rope_scaling",
            "rope_parameters", "layer_types", "mlp_only_layers", "moe_intermediate_size", "shared_expert_intermediate_size");

    private HfConfigReader(Path file, Map<String, Object> json, int tensorCount) {
        this.v = ConfigValues.json(file, json, NULLABLE);
        this.tensorCount = tensorCount;
    }

    /**
     * Reads {@code dir/config.json} for the checkpoint whose tensors are {@code tensors}.
     *
     * @throws Moe4jException naming the file and the field for a missing, malformed, mistyped or out-of-range value
     */
    public static ModelConfig readFolder(Path dir, TensorStore tensors) {
        Path configFile = dir.resolve("config.json");
        if (!Files.isRegularFile(configFile)) throw new Moe4jException(dir + ": no config.json in this folder");
        return read(configFile, Json.parseFile(configFile, Json.MAX_CONFIG_BYTES), tensors.names().size());
    }

    /**
     * Reads a parsed config.json.
     *
     * @param tensorCount how many tensors the checkpoint has: each layer has several, so a larger layer count is refused
     */
    public static ModelConfig read(Path file, Map<String, Object> json, int tensorCount) {
        return new HfConfigReader(file, json, tensorCount).read();
    }

    private ModelConfig read() {
        String type = v.string("model_type");
        Architecture arch = Architecture.fromHfModelType(type);
        if (arch == null) {
            throw v.error("unsupported model_type '" + type + "' (supported: " + Architecture.supportedList() + ")");
        }
        int hidden = v.positive("hidden_size");
        int heads = v.positive("num_attention_heads");
        int layers = v.integer("num_hidden_layers", 1, Math.max(1, tensorCount));
        int kvHeads = v.positive("num_key_value_heads", heads);
        int headDim = v.positive("head_dim", hidden / heads);
        List<?> layerTypes = v.list("layer_types");
        if (layerTypes != null && layerTypes.size() != layers) {
            throw v.error("field 'layer_types' lists " + layerTypes.size() + " layers, not num_hidden_layers (" + layers + ")");
        }
        int experts = v.positive(expertsKey());
        int topK = v.positive("num_experts_per_tok");
        int intermediate = v.positive("intermediate_size");
        if (!v.has("moe_intermediate_size")) keys.put(ModelConfig.Field.EXPERT_FFN, "intermediate_size");
        int expertFfn = v.positive("moe_intermediate_size", intermediate);
        int sharedFfn = v.nonNegative("shared_expert_intermediate_size", 0);
        ConfigDraft d = new ConfigDraft(arch, keys);
        d.hidden = hidden; d.heads = heads; d.layers = layers; d.kvHeads = kvHeads; d.headDim = headDim;
        d.experts = experts; d.topK = topK; d.expertFfn = expertFfn; d.denseFfn = intermediate;
        d.sharedFfn = sharedFfn; d.sharedGated = sharedFfn > 0; d.renormalize = v.bool("norm_topk_prob", arch.renormalizeByDefault);
        d.dense = denseLayers(layers);
        d.vocab = v.positive("vocab_size");
        d.context = v.positive("max_position_embeddings", 4096);
        d.normEps = (float) v.number("rms_norm_eps");
        d.ropeTheta = ropeTheta(d);
        d.tied = v.bool("tie_word_embeddings", false);
        arch.readHf(v, d);
        d.ropeScaling = RopeScalingReader.fromHf(v, d.context, d.mla != null ? d.mla.ropeDim() : d.headDim);
        try {
            return d.build();
        } catch (ModelConfig.Invalid e) {
            String key = d.keys.get(e.field);
            boolean present = v.has(key) || key.contains(".");   // a dotted key was read from a nested object
            throw v.error("field '" + key + "'" + (present ? "" : " (absent: derived from other fields)") + " gives "
                    + e.field.label + " " + e.value + ", which " + e.rule);
        }
    }

    private String expertsKey() {
        for (String k : new String[] {"num_local_experts", "num_experts", "n_routed_experts"}) {
            if (v.has(k)) {
                keys.put(ModelConfig.Field.EXPERTS, k);
                return k;
            }
        }
        throw v.error("missing field 'num_local_experts' (number of experts)");
    }

    /** Layers with a dense MLP: listed in mlp_only_layers, off the decoder_sparse_step, or before first_k_dense_replace. */
    private boolean[] denseLayers(int layers) {
        boolean[] dense = new boolean[layers];
        int sparseStep = v.positive("decoder_sparse_step", 1);
        int leadingDense = v.has("first_k_dense_replace") ? v.integer("first_k_dense_replace", 0, layers) : 0;
        for (int l = 0; l < layers; l++) dense[l] = (sparseStep > 1 && (l + 1) % sparseStep != 0) || l < leadingDense;
        List<?> mlpOnly = v.list("mlp_only_layers");
        if (mlpOnly != null) {
            for (Object o : mlpOnly) {
                if (!(o instanceof Long l) || l < 0 || l >= layers) {
                    throw v.error("field 'mlp_only_layers' holds " + ConfigValues.show(o) + "; expected layer numbers in [0, " + layers + ")");
                }
                dense[(int) (long) l] = true;
            }
        }
        return dense;
    }

    /** rope_theta, from rope_parameters (transformers 5) or rope_scaling when they hold it, else the top level. */
    private double ropeTheta(ConfigDraft d) {
        ConfigValues rp = RopeScalingReader.hfParameters(v);
        if (rp != null) {
            if (rp.has("rope_theta")) {
                d.keys.put(ModelConfig.Field.ROPE_THETA, rp.name("rope_theta"));
                return rp.number("rope_theta", 0);
            }
        }
        return v.number("rope_theta");
    }
}
