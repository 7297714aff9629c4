package dev.moe4j.model;

import dev.moe4j.tensor.Tensor;
import dev.moe4j.tensor.TensorStore;
import dev.moe4j.util.Moe4jException;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Numbers no model has, values of the wrong type and counts beyond the tensors present are refused by both
 * config readers with one line naming the file and the key, before anything is allocated for them.
 */
class ConfigReadersTest {
    private static final Path GGUF = Path.of("models", "olmoe.gguf");
    private static final Path CONFIG = Path.of("models", "olmoe", "config.json");
    private static final int TENSORS = 27;

    /** Metadata of a 2-layer OLMoE as llama.cpp writes it (integers as Long, floats as Float), changed by {@code changes}. */
    private static Map<String, Object> olmoeGguf(Object... changes) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("general.architecture", "olmoe");
        m.put("olmoe.block_count", 2L);
        m.put("olmoe.context_length", 256L);
        m.put("olmoe.embedding_length", 64L);
        m.put("olmoe.feed_forward_length", 96L);
        m.put("olmoe.attention.head_count", 4L);
        m.put("olmoe.attention.head_count_kv", 2L);
        m.put("olmoe.rope.freq_base", 10000f);
        m.put("olmoe.attention.layer_norm_rms_epsilon", 1e-5f);
        m.put("olmoe.expert_used_count", 2L);
        m.put("olmoe.expert_count", 8L);
        m.put("olmoe.vocab_size", 600L);
        return apply(m, changes);
    }

    private static Map<String, Object> deepSeekGguf(Object... changes) {
        Map<String, Object> m = olmoeGguf();
        Map<String, Object> d = new LinkedHashMap<>();
        m.forEach((k, v) -> d.put(k.replace("olmoe.", "deepseek2."), v));
        d.put("general.architecture", "deepseek2");
        d.put("deepseek2.block_count", 3L);
        d.put("deepseek2.expert_count", 16L);
        d.put("deepseek2.expert_used_count", 4L);
        d.put("deepseek2.expert_feed_forward_length", 32L);
        d.put("deepseek2.leading_dense_block_count", 1L);
        d.put("deepseek2.attention.q_lora_rank", 48L);
        d.put("deepseek2.attention.kv_lora_rank", 32L);
        d.put("deepseek2.attention.key_length", 24L);
        d.put("deepseek2.attention.value_length", 16L);
        d.put("deepseek2.rope.dimension_count", 8L);
        d.put("deepseek2.expert_shared_count", 1L);
        d.put("deepseek2.expert_weights_scale", 2.5f);
        d.put("deepseek2.expert_group_count", 4L);
        d.put("deepseek2.expert_group_used_count", 2L);
        return apply(d, changes);
    }

    /** config.json of the same model, as parsed (integers Long, other numbers Double). */
    private static Map<String, Object> olmoeJson(Object... changes) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("model_type", "olmoe");
        m.put("vocab_size", 600L);
        m.put("hidden_size", 64L);
        m.put("intermediate_size", 96L);
        m.put("num_hidden_layers", 2L);
        m.put("num_attention_heads", 4L);
        m.put("num_key_value_heads", 2L);
        m.put("num_experts", 8L);
        m.put("num_experts_per_tok", 2L);
        m.put("norm_topk_prob", false);
        m.put("rms_norm_eps", 1e-5);
        m.put("max_position_embeddings", 256L);
        Map<String, Object> rope = new LinkedHashMap<>();
        rope.put("rope_theta", 10000.0);
        rope.put("rope_type", "default");
        m.put("rope_parameters", rope);
        return apply(m, changes);
    }

    private static Map<String, Object> deepSeekJson(Object... changes) {
        Map<String, Object> m = olmoeJson();
        m.put("model_type", "deepseek_v3");
        m.remove("num_experts");
        m.put("n_routed_experts", 16L);
        m.put("num_experts_per_tok", 4L);
        m.put("num_hidden_layers", 3L);
        m.put("num_key_value_heads", 4L);
        m.put("moe_intermediate_size", 32L);
        m.put("first_k_dense_replace", 1L);
        m.put("q_lora_rank", 48L);
        m.put("kv_lora_rank", 32L);
        m.put("qk_nope_head_dim", 16L);
        m.put("qk_rope_head_dim", 8L);
        m.put("v_head_dim", 16L);
        m.put("n_shared_experts", 1L);
        m.put("n_group", 4L);
        m.put("topk_group", 2L);
        m.put("routed_scaling_factor", 2.5);
        return apply(m, changes);
    }

    /** Pairs of (key, value); a dotted key reaches into a nested object; the value REMOVE deletes the key. */
    @SuppressWarnings("unchecked")
    private static Map<String, Object> apply(Map<String, Object> m, Object... changes) {
        for (int i = 0; i < changes.length; i += 2) {
            String key = (String) changes[i];
            Map<String, Object> target = m;
            if (key.startsWith("rope_parameters.")) {
                target = (Map<String, Object>) m.get("rope_parameters");
                key = key.substring("rope_parameters.".length());
            }
            if (changes[i + 1] == REMOVE) target.remove(key);
            else target.put(key, changes[i + 1]);
        }
        return m;
    }

    private static final Object REMOVE = new Object();

    private static ModelConfig gguf(Map<String, Object> metadata) {
        return GgufConfigReader.read(new MetadataOnly(metadata));
    }

    private static void ggufFails(Map<String, Object> metadata, String message) {
        Moe4jException e = assertThrows(Moe4jException.class, () -> gguf(metadata));
        assertEquals(GGUF + ": " + message, e.getMessage());
    }

    private static void jsonFails(Map<String, Object> json, String message) {
        Moe4jException e = assertThrows(Moe4jException.class, () -> HfConfigReader.read(CONFIG, json, TENSORS));
        assertEquals(CONFIG + ": " + message, e.getMessage());
    }

    @Test
    void validConfigsRead() {
        ModelConfig g = gguf(olmoeGguf()), j = HfConfigReader.read(CONFIG, olmoeJson(), TENSORS);
        for (ModelConfig c : List.of(g, j)) {
            assertEquals(2, c.layers());
            assertEquals(16, c.headDim());
            assertEquals(1e-5f, c.normEps());
            assertEquals(10000.0, c.ropeTheta());
        }
        assertEquals(4, gguf(deepSeekGguf()).moe().groups());
        assertEquals(2.5f, HfConfigReader.read(CONFIG, deepSeekJson(), TENSORS).moe().routedScale());
        // Integers where config.json means a float are common ("rope_theta": 1000000); null head_dim means derive it.
        assertEquals(1e6, HfConfigReader.read(CONFIG, olmoeJson("rope_parameters.rope_theta", 1000000L), TENSORS).ropeTheta());
        assertEquals(16, HfConfigReader.read(CONFIG, olmoeJson("head_dim", null), TENSORS).headDim());
    }

    @Test
    void normEpsilonAndRopeBaseMustBeMeaningful() {
        String eps = "metadata 'olmoe.attention.layer_norm_rms_epsilon'";
        ggufFails(olmoeGguf("olmoe.attention.layer_norm_rms_epsilon", Float.NaN), eps + " is NaN; expected a finite number");
        ggufFails(olmoeGguf("olmoe.attention.layer_norm_rms_epsilon", -1f), eps + " gives RMSNorm epsilon -1.0, which must be in (0, 1)");
        ggufFails(olmoeGguf("olmoe.attention.layer_norm_rms_epsilon", REMOVE), eps + " is missing");
        // A float key stored as an integer is a corrupt type, not a value to convert.
        ggufFails(olmoeGguf("olmoe.attention.layer_norm_rms_epsilon", 1L), eps + " is 1; expected a finite number");
        String theta = "metadata 'olmoe.rope.freq_base'";
        ggufFails(olmoeGguf("olmoe.rope.freq_base", 0f), theta + " gives rotary base (theta) 0.0, which must be a finite number > 1");
        ggufFails(olmoeGguf("olmoe.rope.freq_base", Float.POSITIVE_INFINITY), theta + " is Infinity; expected a finite number");

        jsonFails(olmoeJson("rms_norm_eps", -1L), "field 'rms_norm_eps' gives RMSNorm epsilon -1.0, which must be in (0, 1)");
        jsonFails(olmoeJson("rms_norm_eps", Double.POSITIVE_INFINITY), "field 'rms_norm_eps' is Infinity; expected a finite number");
        jsonFails(olmoeJson("rms_norm_eps", null), "field 'rms_norm_eps' is null");
        jsonFails(olmoeJson("rms_norm_eps", REMOVE), "field 'rms_norm_eps' is missing");
        jsonFails(olmoeJson("rope_parameters.rope_theta", 0L),
                "field 'rope_parameters.rope_theta' gives rotary base (theta) 0.0, which must be a finite number > 1");
        jsonFails(olmoeJson("rope_parameters.rope_theta", Double.NaN), "field 'rope_parameters.rope_theta' is NaN; expected a finite number");
        jsonFails(olmoeJson("rope_parameters", REMOVE), "field 'rope_theta' is missing");
    }

    @Test
    void countsBeyondTheTensorsAreRefusedBeforeAllocating() {
        ggufFails(olmoeGguf("olmoe.block_count", 2147483647L),
                "metadata 'olmoe.block_count' is 2147483647; expected an integer in [1, " + TENSORS + "]");
        ggufFails(olmoeGguf("olmoe.block_count", 4294967295L),
                "metadata 'olmoe.block_count' is 4294967295; expected an integer in [1, " + TENSORS + "]");
        jsonFails(olmoeJson("num_hidden_layers", 2147483647L),
                "field 'num_hidden_layers' is 2147483647; expected an integer in [1, " + TENSORS + "]");
        jsonFails(olmoeJson("num_experts_per_tok", 9L), "field 'num_experts_per_tok' gives experts per token 9, which must be in [1, 8] (the expert count)");
        jsonFails(olmoeJson("mlp_only_layers", List.of(5L)), "field 'mlp_only_layers' holds 5; expected layer numbers in [0, 2)");
    }

    @Test
    void invalidHyperParametersNameFileAndKey() {
        ggufFails(olmoeGguf("olmoe.attention.key_length", 15L),
                "metadata 'olmoe.attention.key_length' gives head dimension 15, which must be positive and even");
        ggufFails(olmoeGguf("olmoe.attention.head_count", 3L),
                "metadata 'olmoe.attention.head_count_kv' gives key/value head count 2, which must divide the 3 attention heads");
        ggufFails(olmoeGguf("olmoe.embedding_length", 60L, "olmoe.attention.head_count_kv", 4L),
                "metadata 'olmoe.attention.key_length' (absent: derived from other keys) gives head dimension 15, which must be positive and even");
        ggufFails(deepSeekGguf("deepseek2.expert_group_count", 3L),
                "metadata 'deepseek2.expert_group_count' gives expert group count 3, which must divide the 16 experts");
        ggufFails(deepSeekGguf("deepseek2.expert_group_used_count", 1L, "deepseek2.expert_used_count", 5L),
                "metadata 'deepseek2.expert_used_count' gives experts per token 5, which must be at most the 4 experts of the groups kept");
        ggufFails(deepSeekGguf("deepseek2.expert_weights_scale", REMOVE), "metadata 'deepseek2.expert_weights_scale' is missing");

        jsonFails(olmoeJson("head_dim", 15L), "field 'head_dim' gives head dimension 15, which must be positive and even");
        jsonFails(deepSeekJson("n_group", 3L), "field 'n_group' gives expert group count 3, which must divide the 16 experts");
        jsonFails(deepSeekJson("routed_scaling_factor", 0L), "field 'routed_scaling_factor' gives routed expert scale 0.0, which must be a finite number > 0");
        jsonFails(deepSeekJson("first_k_dense_replace", REMOVE), "field 'first_k_dense_replace' is missing");
    }

    @Test
    void aValueOfTheWrongTypeIsNotReplacedByADefault() {
        ggufFails(olmoeGguf("olmoe.expert_weights_norm", 1L), "metadata 'olmoe.expert_weights_norm' is 1; expected true or false");
        ggufFails(olmoeGguf("olmoe.context_length", 4096f), "metadata 'olmoe.context_length' is 4096.0; expected an integer");
        jsonFails(olmoeJson("norm_topk_prob", "yes"), "field 'norm_topk_prob' is the string \"yes\"; expected true or false");
        jsonFails(olmoeJson("rope_parameters", 5L), "field 'rope_parameters' is 5; expected an object");
        jsonFails(olmoeJson("tie_word_embeddings", List.of()), "field 'tie_word_embeddings' is a list of 0; expected true or false");
    }

    @Test
    void ropeScalingIsReadWhereTransformersAndLlamaCppKeepIt() {
        double nan = Double.NaN;
        // transformers 5: rope_parameters (null means absent, as transformers' .get reads it)
        assertEquals(RopeScaling.yarn(4, 64, nan, 32, 1, 0, 0, true), HfConfigReader.read(CONFIG, olmoeJson("rope_parameters.rope_type", "yarn",
                "rope_parameters.factor", 4L, "rope_parameters.original_max_position_embeddings", 64L, "rope_parameters.attention_factor", null),
                TENSORS).ropeScaling());
        // yarn without a factor: max_position_embeddings / original_max_position_embeddings; beta 0 means the default
        assertEquals(RopeScaling.yarn(8, 32, nan, 32, 1, 0, 0, true), HfConfigReader.read(CONFIG, olmoeJson("rope_parameters.rope_type", "yarn",
                "rope_parameters.original_max_position_embeddings", 32L, "rope_parameters.beta_fast", 0L), TENSORS).ropeScaling());
        // transformers 4: rope_scaling with "type" and rope_theta at the top level; a top-level original_max_position_embeddings wins
        Map<String, Object> v4 = olmoeJson("rope_parameters", REMOVE, "rope_theta", 1e6, "original_max_position_embeddings", 128L);
        v4.put("rope_scaling", Map.of("type", "yarn", "factor", 40.0, "mscale", 1.0, "mscale_all_dim", 0.707,
                "original_max_position_embeddings", 4096L));
        ModelConfig c4 = HfConfigReader.read(CONFIG, v4, TENSORS);
        assertEquals(1e6, c4.ropeTheta());
        assertEquals(RopeScaling.yarn(40, 128, nan, 32, 1, 1.0, 0.707, true), c4.ropeScaling());
        assertEquals(RopeScaling.linear(2.5), HfConfigReader.read(CONFIG, olmoeJson("rope_parameters.rope_type", "linear",
                "rope_parameters.factor", 2.5), TENSORS).ropeScaling());
        assertEquals(RopeScaling.NONE, HfConfigReader.read(CONFIG, olmoeJson(), TENSORS).ropeScaling());

        assertEquals(RopeScaling.yarn(4, 64, nan, 32, 1, 0, 0, true), gguf(olmoeGguf("olmoe.rope.scaling.type", "yarn",
                "olmoe.rope.scaling.factor", 4f, "olmoe.rope.scaling.original_context_length", 64L)).ropeScaling());
        assertEquals(RopeScaling.yarn(4, 256, 1.25f, 16, 2, 0, 0, true), gguf(olmoeGguf("olmoe.rope.scaling.type", "yarn",
                "olmoe.rope.scaling.factor", 4f, "olmoe.rope.scaling.yarn_attn_factor", 1.25f, "olmoe.rope.scaling.yarn_beta_fast", 16f,
                "olmoe.rope.scaling.yarn_beta_slow", 2f)).ropeScaling());
        assertEquals(RopeScaling.linear(2), gguf(olmoeGguf("olmoe.rope.scaling.type", "linear", "olmoe.rope.scaling.factor", 2f)).ropeScaling());
        // llama.cpp's DeepSeek key: yarn_log_multiplier = 0.1 · mscale_all_dim, with mscale = mscale_all_dim
        RopeScaling ds = gguf(deepSeekGguf("deepseek2.rope.scaling.type", "yarn", "deepseek2.rope.scaling.factor", 40f,
                "deepseek2.rope.scaling.original_context_length", 4096L, "deepseek2.rope.scaling.yarn_log_multiplier", 0.0707f)).ropeScaling();
        assertEquals(0.707, ds.mscaleAllDim(), 1e-6);
        assertEquals(ds.mscaleAllDim(), ds.mscale());
        assertEquals(1.0, ds.cosSinFactor(), 1e-12);
    }

    @Test
    void badRopeScalingIsRefusedUnderItsKey() {
        String p = "field 'rope_parameters.";
        jsonFails(olmoeJson("rope_parameters.rope_type", "ntk"),
                p + "rope_type' is the string \"ntk\"; expected one of default, linear, dynamic, yarn, llama3, longrope");
        jsonFails(olmoeJson("rope_parameters.rope_type", "linear"), p + "factor' is missing");
        jsonFails(olmoeJson("rope_parameters.rope_type", "linear", "rope_parameters.factor", -2L), p + "factor' is -2; expected a number > 0");
        jsonFails(olmoeJson("rope_parameters.rope_type", "yarn", "rope_parameters.factor", "big"),
                p + "factor' is the string \"big\"; expected a finite number");
        jsonFails(olmoeJson("rope_parameters.rope_type", "yarn", "rope_parameters.factor", 4L, "rope_parameters.beta_slow", -1L),
                p + "beta_slow' is -1; expected a number > 0");
        jsonFails(olmoeJson("rope_parameters.rope_type", "yarn", "rope_parameters.factor", 4L, "rope_parameters.truncate", "no"),
                p + "truncate' is the string \"no\"; expected true or false");
        jsonFails(olmoeJson("rope_parameters.rope_type", "llama3", "rope_parameters.factor", 8L, "rope_parameters.low_freq_factor", 4L,
                "rope_parameters.high_freq_factor", 1L), p + "high_freq_factor' is 1; expected a number > low_freq_factor (4.0)");
        jsonFails(olmoeJson("rope_parameters.rope_type", "longrope", "rope_parameters.short_factor", List.of(1.0),
                "rope_parameters.long_factor", List.of(1.0)), p + "short_factor' is a list of 1; expected a list of 8 numbers (half the rotary dimension)");
        jsonFails(olmoeJson("rope_parameters.rope_type", "longrope", "rope_parameters.short_factor", java.util.Collections.nCopies(8, 1.0),
                "rope_parameters.long_factor", java.util.Collections.nCopies(8, "x")), p + "long_factor' entry 0 is the string \"x\"; expected a number > 0");
        jsonFails(olmoeJson("rope_parameters.full_attention", Map.of("rope_type", "default")),
                p + "full_attention': rope settings per layer type are not supported yet");

        String g = "metadata 'olmoe.rope.scaling.";
        ggufFails(olmoeGguf("olmoe.rope.scaling.type", "longrope"),
                g + "type' is \"longrope\": its factors are tensors (rope_factors_long/short), not supported yet");
        ggufFails(olmoeGguf("olmoe.rope.scaling.type", "ntk"), g + "type' is the string \"ntk\"; expected one of \"none\", \"linear\", \"yarn\"");
        ggufFails(olmoeGguf("olmoe.rope.scaling.type", "yarn", "olmoe.rope.scaling.factor", 0f), g + "factor' is 0.0; expected a number > 0");
        ggufFails(olmoeGguf("olmoe.rope.scaling.type", "yarn", "olmoe.rope.scaling.factor", 4f, "olmoe.rope.scaling.yarn_ext_factor", 0.5f),
                g + "yarn_ext_factor' is 0.5; expected 1 (other extrapolation mixes are not supported)");
        ggufFails(olmoeGguf("olmoe.rope.scaling.type", "yarn", "olmoe.rope.scaling.original_context_length", 0L),
                g + "original_context_length' is 0; expected an integer >= 1");
    }

    @Test
    void deepSeekReadsTodaysConverterLayoutMetadata() {
        // Today's converter writes MLA as MQA over the latent: one KV head, key length rank + rope, the per-head sizes in *_mla.
        ModelConfig c = gguf(deepSeekGguf("deepseek2.attention.head_count_kv", 1L, "deepseek2.attention.key_length", 40L,
                "deepseek2.attention.value_length", 32L, "deepseek2.attention.key_length_mla", 24L, "deepseek2.attention.value_length_mla", 16L));
        assertEquals(new ModelConfig.Mla(48, 32, 16, 8, 16), c.attention().mla());
        assertEquals(24, c.headDim());
        assertEquals(c.heads(), c.kvHeads());
        assertEquals(new ModelConfig.Mla(48, 32, 16, 8, 16), gguf(deepSeekGguf()).attention().mla());   // the legacy layout
        ggufFails(deepSeekGguf("deepseek2.attention.key_length_mla", 24L, "deepseek2.attention.value_length_mla", 16L),
                "metadata 'deepseek2.attention.key_length' / value_length must be kv_lora_rank + rope (40) / kv_lora_rank (32) beside attention.key_length_mla");
        ggufFails(deepSeekGguf("deepseek2.rope.dimension_count", 24L),
                "metadata 'deepseek2.rope.dimension_count' is 24, not less than the key length 24");
    }

    @Test
    void modelConfigItselfSaysWhichParameter() {
        ModelConfig.Invalid e = assertThrows(ModelConfig.Invalid.class, () -> new ModelConfig(Architecture.OLMOE, 600, 64, 2, 256,
                Float.NaN, false, new ModelConfig.AttentionSpec(4, 2, 16, 1e4, RopeStyle.HALF), new ModelConfig.MoeSpec(8, 2, 96, false, 0, false),
                new ModelConfig.DenseSpec(96, null)));
        assertEquals(ModelConfig.Field.NORM_EPS, e.field);
        assertEquals("invalid RMSNorm epsilon NaN: must be in (0, 1)", e.getMessage());
    }

    /** The metadata of a GGUF file and the names of its tensors, with no data. */
    private record MetadataOnly(Map<String, Object> metadata, Set<String> names) implements TensorStore {
        MetadataOnly(Map<String, Object> metadata) {
            this(metadata, tensorNames());
        }

        private static Set<String> tensorNames() {
            List<String> n = new ArrayList<>();
            for (int i = 0; i < TENSORS; i++) n.add("t" + i);
            return new LinkedHashSet<>(n);
        }

        @Override public Optional<Tensor> find(String name) { return Optional.empty(); }
        @Override public Path source() { return GGUF; }
        @Override public void close() { }
    }
}
