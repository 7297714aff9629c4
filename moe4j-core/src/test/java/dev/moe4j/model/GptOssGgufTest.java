package dev.moe4j.model;

import dev.moe4j.RefsLocator;
import dev.moe4j.format.gguf.GgufFile;
import dev.moe4j.format.gguf.GgufQuantizer;
import dev.moe4j.tensor.DType;
import dev.moe4j.tensor.Tensor;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.*;

/**
 * gpt-oss as GGUF in llama.cpp's {@code gpt-oss} layout, written by {@code quantize} and read back: unquantised it
 * gives transformers' logits; quantised, its experts are MXFP4 (as llama.cpp's files are); from MXFP4 safetensors the
 * experts' values carry over exactly.
 */
class GptOssGgufTest {
    private static final GgufQuantizer.Listener QUIET = new GgufQuantizer.Listener() {};
    @TempDir Path tmp;

    private static Path ref() {
        Path refs = RefsLocator.refs();
        Assumptions.assumeTrue(refs != null, "skipped: ../shared/refs is absent");
        return refs.resolve("gptoss-tiny");
    }

    /** Worst relative logit error over the reference prompts, and argmax agreement. */
    private static double[] againstReference(Path model, Path ref) {
        double worst = 0;
        int agree = 0, positions = 0;
        try (Model m = Model.load(model)) {
            int vocab = m.config().vocabSize();
            for (ReferenceModelTest.Prompt p : ReferenceModelTest.prompts(ref)) {
                float[] got = m.transformer().forward(p.ids(), m.transformer().newCache(p.ids().length), true);
                worst = Math.max(worst, ReferenceModelTest.relativeError(got, p.logits()));
                for (int i = 0; i < p.ids().length; i++, positions++)
                    if (ReferenceModelTest.argmax(got, i * vocab, vocab) == ReferenceModelTest.argmax(p.logits(), i * vocab, vocab)) agree++;
            }
        }
        return new double[] {worst, agree, positions};
    }

    @Test
    void unquantisedGgufGivesTransformersLogitsInLlamaCppsLayout() {
        Path ref = ref(), out = tmp.resolve("gptoss-f32.gguf");
        HfToGguf.quantize(ref, out, DType.F32, QUIET);
        try (GgufFile g = GgufFile.open(out)) {
            assertEquals("gpt-oss", g.metadata().get("general.architecture"));
            assertEquals(8L, ((Number) g.metadata().get("gpt-oss.attention.sliding_window")).longValue());
            Set<String> layer0 = new TreeSet<>();
            for (String n : g.names()) if (n.startsWith("blk.0.")) layer0.add(n.substring(6));
            // llama.cpp's llama_model_openai_moe::load_arch_tensors
            assertEquals(new TreeSet<>(List.of("attn_norm.weight", "post_attention_norm.weight", "attn_q.weight", "attn_q.bias",
                    "attn_k.weight", "attn_k.bias", "attn_v.weight", "attn_v.bias", "attn_output.weight", "attn_output.bias",
                    "attn_sinks.weight", "ffn_gate_inp.weight", "ffn_gate_inp.bias", "ffn_gate_exps.weight", "ffn_gate_exps.bias",
                    "ffn_up_exps.weight", "ffn_up_exps.bias", "ffn_down_exps.weight", "ffn_down_exps.bias")), layer0);
            assertArrayEquals(new long[] {8, 64, 64}, g.tensor("blk.0.ffn_gate_exps.weight").shape());
            assertArrayEquals(new long[] {8, 64}, g.tensor("blk.0.ffn_gate_exps.bias").shape());
        }
        double[] r = againstReference(out, ref);
        System.out.printf("gptoss-tiny GGUF f32: max relative error %.1e against transformers%n", r[0]);
        assertTrue(r[0] <= 1e-4, "relative error " + r[0]);
    }

    @Test
    void quantisedGgufHasMxfp4Experts() {
        Path ref = ref(), out = tmp.resolve("gptoss-q8_0.gguf");
        HfToGguf.quantize(ref, out, DType.Q8_0, QUIET);
        try (GgufFile g = GgufFile.open(out)) {
            for (String p : new String[] {"gate", "up", "down"})
                assertEquals(DType.MXFP4, g.tensor("blk.1.ffn_" + p + "_exps.weight").dtype(), p);
            assertEquals(DType.Q8_0, g.tensor("blk.1.attn_q.weight").dtype());
            assertEquals(DType.F32, g.tensor("blk.1.ffn_gate_exps.bias").dtype(), "biases stay F32");
        }
        double[] r = againstReference(out, ref);
        System.out.printf("gptoss-tiny GGUF q8_0 + MXFP4 experts: max relative error %.2e, argmax agrees at %d/%d%n", r[0], (int) r[1], (int) r[2]);
        // 4.25-bit experts on a tiny random model: a layout error gives ≈ 1.
        assertTrue(r[0] <= 0.2, "relative error " + r[0]);
    }

    @Test
    void mxfp4SafetensorsConvertWithoutLoss() throws Exception {
        Path ref = ref(), st = tmp.resolve("mxfp4"), copy = tmp.resolve("f32"), out = tmp.resolve("from-mxfp4.gguf");
        QuantizedCheckpoints.mxfp4(ref, st, copy);
        HfToGguf.quantize(st, out, DType.Q8_0, QUIET);
        try (GgufFile g = GgufFile.open(out); Model f = Model.load(copy)) {
            Tensor down = g.tensor("blk.0.ffn_down_exps.weight");
            assertEquals(DType.MXFP4, down.dtype());
            float[] fromGguf = QuantizedCheckpoints.floats(down);
            float[] stored = QuantizedCheckpoints.floats(f.store().find("model.layers.0.mlp.experts.down_proj").orElseThrow()); // [E, ffn, out]
            int e = 8, ffn = 64, d = 64;
            for (int x = 0; x < e; x++)
                for (int o = 0; o < d; o++)
                    for (int i = 0; i < ffn; i++)
                        assertEquals(stored[(x * ffn + i) * d + o], fromGguf[(x * d + o) * ffn + i], 0f, "expert " + x + " (" + o + ", " + i + ")");
        }
        Path f32 = tmp.resolve("from-mxfp4-f32.gguf");
        HfToGguf.quantize(st, f32, DType.F32, QUIET);
        double worst = 0;
        try (Model a = Model.load(f32); Model b = Model.load(copy)) {
            for (ReferenceModelTest.Prompt p : ReferenceModelTest.prompts(ref)) {
                float[] x = a.transformer().forward(p.ids(), a.transformer().newCache(p.ids().length), true);
                float[] y = b.transformer().forward(p.ids(), b.transformer().newCache(p.ids().length), true);
                worst = Math.max(worst, ReferenceModelTest.relativeError(x, y));
            }
        }
        assertTrue(worst <= 1e-5, "MXFP4 safetensors → f32 GGUF vs the f32 copy: " + worst);
    }
}
