package dev.moe4j.format.gguf;

import dev.moe4j.tensor.DType;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** Q4_K_M and Q5_K_M pick each tensor's type as llama-quantize does (rules in {@link QuantMix}'s docstring). */
class QuantMixTest {
    private static final GgufQuantizer.Listener QUIET = new GgufQuantizer.Listener() {};

    @Test
    void useMoreBitsIsLlamaCppsLayerPattern() {
        // 16 layers: the first and last two, and every third from layer 2 + 2 on.
        List<Integer> more = new ArrayList<>();
        for (int l = 0; l < 16; l++) if (QuantMix.useMoreBits(l, 16)) more.add(l);
        assertEquals(List.of(0, 1, 4, 7, 10, 13, 14, 15), more);
    }

    /** A 16-layer MoE file's tensors (names as llama.cpp writes them), written with {@code mix}: the type of each. */
    private static java.util.Map<String, DType> write(QuantMix mix, int experts, boolean tied, int ffnCols) throws Exception {
        Path dir = Files.createTempDirectory("moe4j-mix");
        Path out = dir.resolve("m.gguf");
        try {
            GgufQuantizer q = new GgufQuantizer(mix, QUIET);
            GgufQuantizer.Rows wave = (row, count, dst, off) -> {
                for (int i = 0; i < count * 256; i++) dst[off + i] = (float) Math.sin(0.1 * (row * 7 + i));
            };
            q.add("token_embd.weight", new long[]{4, 256}, wave);
            if (!tied) q.add("output.weight", new long[]{4, 256}, wave);
            q.add("output_norm.weight", new long[]{256}, wave);
            for (int l = 0; l < 16; l++) {
                for (String t : new String[]{"attn_q", "attn_k", "attn_v", "attn_output"}) q.add("blk." + l + "." + t + ".weight", new long[]{2, 256}, wave);
                q.add("blk." + l + ".attn_norm.weight", new long[]{256}, wave);
                q.add("blk." + l + ".ffn_gate_inp.weight", new long[]{experts, 256}, wave);
                q.add("blk." + l + ".ffn_gate_exps.weight", new long[]{experts, 1, 256}, wave);
                q.add("blk." + l + ".ffn_up_exps.weight", new long[]{experts, 1, 256}, wave);
                q.add("blk." + l + ".ffn_down_exps.weight", new long[]{experts, 1, ffnCols}, (row, count, dst, off) -> {
                    for (int i = 0; i < count * ffnCols; i++) dst[off + i] = (float) Math.cos(0.1 * i);
                });
            }
            q.write(out);
            java.util.Map<String, DType> types = new java.util.HashMap<>();
            try (GgufFile f = GgufFile.open(out)) {
                assertEquals((long) mix.fileType(), ((Number) f.metadata().get("general.file_type")).longValue());
                for (var t : f.tensors()) types.put(t.name(), t.dtype());
            }
            return types;
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(dir);
        }
    }

    @Test
    void q4KmGivesMoreBitsToOutputAttnVAndFfnDownOfEveryThirdLayer() throws Exception {
        var types = write(QuantMix.Q4_K_M, 4, false, 256);
        assertEquals(DType.Q6_K, types.get("output.weight"));
        assertEquals(DType.Q4_K, types.get("token_embd.weight"));   // untied: the base type
        assertEquals(DType.F32, types.get("output_norm.weight"));
        for (int l = 0; l < 16; l++) {
            DType more = QuantMix.useMoreBits(l, 16) ? DType.Q6_K : DType.Q4_K;
            assertEquals(more, types.get("blk." + l + ".attn_v.weight"), "attn_v " + l);
            assertEquals(more, types.get("blk." + l + ".ffn_down_exps.weight"), "ffn_down_exps " + l);
            for (String t : new String[]{"attn_q", "attn_k", "attn_output", "ffn_gate_exps", "ffn_up_exps"})
                assertEquals(DType.Q4_K, types.get("blk." + l + "." + t + ".weight"), t + " " + l);
            assertEquals(DType.F32, types.get("blk." + l + ".ffn_gate_inp.weight"));
        }
    }

    @Test
    void q5KmWithEightExpertsAndTiedEmbeddings() throws Exception {
        var types = write(QuantMix.Q5_K_M, 8, true, 256);
        assertEquals(DType.Q6_K, types.get("token_embd.weight"));   // tied: typed as the output
        for (int l = 0; l < 16; l++) {
            assertEquals(DType.Q8_0, types.get("blk." + l + ".attn_v.weight"), "8 experts: attn_v " + l);
            assertEquals(DType.Q8_0, types.get("blk." + l + ".attn_k.weight"), "8 experts: attn_k " + l);
            assertEquals(DType.Q5_K, types.get("blk." + l + ".attn_output.weight"), "attn_output " + l);
            assertEquals(QuantMix.useMoreBits(l, 16) ? DType.Q6_K : DType.Q5_K, types.get("blk." + l + ".ffn_down_exps.weight"));
        }
        assertEquals(DType.Q5_K, write(QuantMix.Q4_K_M, 8, true, 256).get("blk.3.attn_output.weight"), "Q4_K_M, 8 experts");
    }

    @Test
    void rowsThatAreNotWholeSuperBlocksFallBackAsLlamaQuantizeDoes() throws Exception {
        var q4 = write(QuantMix.Q4_K_M, 4, false, 96);
        assertEquals(DType.Q8_0, q4.get("blk.0.ffn_down_exps.weight"));   // Q6_K -> Q8_0
        assertEquals(DType.Q5_0, q4.get("blk.2.ffn_down_exps.weight"));   // Q4_K -> Q5_0
        var q5 = write(QuantMix.Q5_K_M, 4, false, 96);
        assertEquals(DType.Q5_1, q5.get("blk.2.ffn_down_exps.weight"));   // Q5_K -> Q5_1
        assertEquals(DType.F16, QuantMix.fallback(DType.Q4_K, 48));
    }

    @Test
    void aFfnDownWithoutALayerNumberIsNamed() {
        var e = assertThrows(IllegalArgumentException.class, () -> QuantMix.Q4_K_M.plan(List.of("ffn_down.weight"),
                List.of(new long[]{2, 256}), 4, 1));
        assertTrue(e.getMessage().contains("'ffn_down.weight'"), e.getMessage());
    }
}
