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
