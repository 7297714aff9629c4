package dev.moe4j.model;

import dev.moe4j.util.Json;
import dev.moe4j.util.Moe4jException;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** Reads a Hugging Face {@code config.json} into a {@link ModelConfig}. */
public final class HfConfigReader {
    private final Path file;
    private final Map<String, Object> j;

    private HfConfigReader(Path file, Map<String, Object> json) {
        this.file = file;
        this.j = json;
    }

    /** Reads {@code dir/config.json}; a missing or malformed file is a one-line error naming it. */
    public static ModelConfig readFolder(Path dir) {
        Path configFile = dir.resolve("config.json");
        if (!java.nio.file.Files.isRegularFile(configFile)) throw new Moe4jException(dir + ": no config.json in this folder");
        try {
            return read(configFile, Json.parseObject(java.nio.file.Files.readString(configFile)));
        } catch (java.io.IOException | IllegalArgumentException e) {
            throw new Moe4jException(configFile + ": " + e.getMessage(), e);
        }
    }

    public static ModelConfig read(Path file, Map<String, Object> json) {
        return new HfConfigReader(file, json).read();
    }

    private ModelConfig read() {
        String type = string("model_type");
        Architecture arch = Architecture.fromHfModelType(type);
        if (arch == null) {
            throw new Moe4jException(file + ": unsupported model_type '" + type + "' (supported: " + Architecture.supportedList() + ")");
        }
        int hidden = integer("hidden_size");
        int heads = integer("num_attention_heads");
        int layers = integer("num_hidden_layers");
        int kvHeads = optInt("num_key_value_heads", heads);
        int headDim = optInt("head_dim", hidden / heads);
        if (j.get("layer_types") instanceof List<?> lt && lt.size() != integer("num_hidden_layers")) {
            throw new Moe4jException(file + ": field 'layer_types' lists " + lt.size() + " layers, not num_hidden_layers");
        }
        int experts = firstInt("num_local_experts", "num_experts", "n_routed_experts");
        int topK = integer("num_experts_per_tok");
        int intermediate = integer("intermediate_size");
        int expertFfn = optInt("moe_intermediate_size", intermediate);
        int sharedFfn = optInt("shared_expert_intermediate_size", 0);
        boolean sharedGated = sharedFfn > 0;
        boolean renorm = j.get("norm_topk_prob") instanceof Boolean b ? b : arch.renormalizeByDefault;

        boolean[] dense = new boolean[layers];
        int sparseStep = optInt("decoder_sparse_step", 1);
        int leadingDense = j.get("first_k_dense_replace") == null ? 0 : nonNegative("first_k_dense_replace");
        List<Object> mlpOnly = Json.arr(j.get("mlp_only_layers"));
        for (int l = 0; l < layers; l++) {
            dense[l] = (mlpOnly != null && mlpOnly.contains((long) l)) || (sparseStep > 1 && (l + 1) % sparseStep != 0)
                    || l < leadingDense;
        }
        ModelConfig.Extras extras = ModelConfig.Extras.NONE;
        RopeStyle rope = RopeStyle.HALF;
        if (arch == Architecture.DEEPSEEK_V3) {
            ModelConfig.Mla mla = new ModelConfig.Mla(j.get("q_lora_rank") == null ? 0 : integer("q_lora_rank"),
                    integer("kv_lora_rank"), integer("qk_nope_head_dim"), integer("qk_rope_head_dim"), integer("v_head_dim"));
            headDim = mla.qkHeadDim();
            sharedFfn = optInt("n_shared_experts", 0) * expertFfn;
            sharedGated = false;
            rope = Boolean.FALSE.equals(j.get("rope_interleave")) ? RopeStyle.HALF : RopeStyle.ADJACENT;
            extras = new ModelConfig.Extras(optInt("n_group", 1), optInt("topk_group", 1),
                    (float) number("routed_scaling_factor", 1.0), mla, 0, null, 0f, 0f);
        } else if (arch == Architecture.GPT_OSS) {
            boolean[] sliding = new boolean[layers];
            List<Object> types = Json.arr(j.get("layer_types"));
            for (int l = 0; l < layers; l++) {
                sliding[l] = types != null ? "sliding_attention".equals(types.get(l)) : l % 2 == 0;
            }
            extras = new ModelConfig.Extras(1, 1, 1f, null, integer("sliding_window"), sliding, 1.702f,
                    (float) number("swiglu_limit", 7.0));
        }
        return new ModelConfig(arch, integer("vocab_size"), hidden, layers, heads, kvHeads, headDim,
                optInt("max_position_embeddings", 4096), (float) number("rms_norm_eps", 1e-6), ropeTheta(),
                rope, experts, topK, expertFfn, renorm, sharedFfn, sharedGated, intermediate, dense,
                Boolean.TRUE.equals(j.get("tie_word_embeddings")), extras);
    }

    private int nonNegative(String key) {
        if (!(j.get(key) instanceof Long n) || n < 0 || n > Integer.MAX_VALUE) {
            throw new Moe4jException(file + ": field '" + key + "' must be a non-negative integer");
        }
        return n.intValue();
    }

    private double ropeTheta() {
        Map<String, Object> rp = Json.obj(j.get("rope_parameters"));
        if (rp == null) rp = Json.obj(j.get("rope_scaling"));
        if (rp != null) {
            Object type = rp.getOrDefault("rope_type", rp.get("type"));
            if (type != null && !"default".equals(type)) {
                throw new Moe4jException(file + ": rope_type '" + type + "' is not supported yet (only 'default')");
            }
            if (rp.get("rope_theta") instanceof Number n) return n.doubleValue();
        }
        return number("rope_theta", 10000.0);
    }

    private String string(String key) {
        if (!(j.get(key) instanceof String s)) throw new Moe4jException(file + ": missing or non-string field '" + key + "'");
        return s;
    }

    private int integer(String key) {
        Object v = j.get(key);
        if (!(v instanceof Long n)) throw new Moe4jException(file + ": missing or non-integer field '" + key + "'");
        if (n <= 0 || n > Integer.MAX_VALUE) throw new Moe4jException(file + ": field '" + key + "' out of range: " + n);
        return n.intValue();
    }

    private int optInt(String key, int dflt) {
        return j.get(key) == null ? dflt : integer(key);
    }

    private int firstInt(String... keys) {
        for (String k : keys) if (j.get(k) != null) return integer(k);
        throw new Moe4jException(file + ": missing field '" + keys[0] + "' (number of experts)");
    }

    private double number(String key, double dflt) {
        Object v = j.get(key);
        if (v == null) return dflt;
        if (!(v instanceof Number n)) throw new Moe4jException(file + ": field '" + key + "' is not a number");
        return n.doubleValue();
    }
}
