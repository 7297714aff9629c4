package dev.moe4j.model;

import dev.moe4j.RefsLocator;
import dev.moe4j.tensor.DType;
import dev.moe4j.tensor.Tensor;
import dev.moe4j.util.Moe4jException;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Quantised safetensors run from their stored form: MXFP4 gpt-oss experts and block-FP8 DeepSeek-V3 / Qwen3 weights,
 * written from the reference checkpoints by {@link QuantizedCheckpoints}, give the logits of an F32 copy holding the
 * values they stand for; and a bad scale tensor or block size is one line naming it.
 */
class QuantizedSafetensorsTest {
    @TempDir Path tmp;

    private static Path ref(String name) {
        Path refs = RefsLocator.refs();
        Assumptions.assumeTrue(refs != null, "skipped: ../shared/refs is absent, so there are no checkpoints to quantise");
        return refs.resolve(name);
    }

    /** Worst relative logit difference over the reference prompts between two checkpoints. */
    private static double compare(Path ref, Path quantised, Path copy, DType expected) {
        double worst = 0;
        try (Model q = Model.load(quantised); Model f = Model.load(copy)) {
            long typed = q.store().names().stream().filter(n -> q.store().find(n).orElseThrow().dtype() == expected).count();
            assertTrue(typed > 0, "the quantised checkpoint holds " + expected + " tensors");
            for (ReferenceModelTest.Prompt p : ReferenceModelTest.prompts(ref)) {
                float[] a = q.transformer().forward(p.ids(), q.transformer().newCache(p.ids().length), true);
                float[] b = f.transformer().forward(p.ids(), f.transformer().newCache(p.ids().length), true);
                worst = Math.max(worst, ReferenceModelTest.relativeError(a, b));
                // And the quantisation is real: the copy is not the reference.
                assertTrue(ReferenceModelTest.relativeError(b, p.logits()) > 1e-4, "quantised weights differ from the reference's");
            }
        }
        return worst;
    }

    @Test
    void mxfp4GptOssMatchesItsF32Copy() throws Exception {
        Path ref = ref("gptoss-tiny"), q = tmp.resolve("mxfp4"), f = tmp.resolve("f32");
        QuantizedCheckpoints.mxfp4(ref, q, f);
        double err = compare(ref, q, f, DType.U8);
        System.out.printf("gptoss-tiny MXFP4 safetensors vs its f32 copy: max relative logit difference %.1e%n", err);
        assertTrue(err <= 1e-5, "relative difference " + err);
    }

    @Test
    void blockFp8MatchesItsF32Copy() throws Exception {
        for (var c : List.of(new Object[] {"deepseekv3-tiny", 128, 128}, new Object[] {"qwen3moe-tiny", 16, 32})) {
            Path ref = ref((String) c[0]), q = tmp.resolve(c[0] + "-fp8"), f = tmp.resolve(c[0] + "-f32");
            QuantizedCheckpoints.fp8(ref, q, f, (int) c[1], (int) c[2]);
            double err = compare(ref, q, f, DType.F8_E4M3);
            System.out.printf("%s FP8 (blocks %d×%d) safetensors vs its f32 copy: max relative logit difference %.1e%n", c[0], c[1], c[2], err);
            assertTrue(err <= 1e-5, c[0] + ": relative difference " + err);
        }
    }

    private static String refused(Path dir) {
        Moe4jException e = assertThrows(Moe4jException.class, () -> Model.load(dir).close());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        return e.getMessage();
    }

    @Test
    void badFp8ScalesAndBlockSizesAreOneLineNamingThem() throws Exception {
        Path ref = ref("qwen3moe-tiny"), q = tmp.resolve("fp8"), f = tmp.resolve("f32");
        QuantizedCheckpoints.fp8(ref, q, f, 16, 32);
        String w = "model.layers.1.self_attn.k_proj.weight";

        QuantizedCheckpoints.editConfig(q, "[16, 32]", "[16, 48]");
        assertTrue(refused(q).contains("'quantization_config.weight_block_size'"), refused(q));
        QuantizedCheckpoints.editConfig(q, "[16, 48]", "[32, 32]");   // scales no longer fit the blocks
        String m = refused(q);
        assertTrue(m.contains("_scale_inv'") && m.contains("expected"), m);
        QuantizedCheckpoints.editConfig(q, "[32, 32]", "[16, 32]");
        QuantizedCheckpoints.editConfig(q, "\"quant_method\": \"fp8\"", "\"quant_method\": \"gptq\"");
        assertTrue(refused(q).contains("'quantization_config.quant_method' is 'gptq'"), refused(q));
        QuantizedCheckpoints.editConfig(q, "\"quant_method\": \"gptq\"", "\"quant_method\": \"fp8\"");

        var conversion = assertThrows(Moe4jException.class, () -> HfToGguf.quantize(q, tmp.resolve("x.gguf"), DType.Q8_0,
                new dev.moe4j.format.gguf.GgufQuantizer.Listener() {}));
        assertTrue(conversion.getMessage().contains("block-FP8 checkpoint is already quantised"), conversion.getMessage());

        QuantizedCheckpoints.rewrite(q, n -> !n.equals(w + "_scale_inv"), Map.of());
        assertTrue(refused(q).contains("missing tensor '" + w + "_scale_inv'"), refused(q));
        QuantizedCheckpoints.fp8(ref, q, f, 16, 32);
        byte[] b;
        long[] shape;
        try (var s = dev.moe4j.format.safetensors.SafetensorsStore.open(q)) {
            b = s.tensor(w).data().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
            shape = s.tensor(w).shape();
        }
        b[70] = (byte) 0x7F;   // NaN, at row 1, column 6 of 64 columns
        QuantizedCheckpoints.rewrite(q, n -> true, Map.of(w, new Tensor(w, DType.F8_E4M3, shape, MemorySegment.ofArray(b))));
        m = refused(q);
        assertTrue(m.contains("'" + w + "' holds NaN at row 1, column 6"), m);
    }

    @Test
    void badMxfp4BlocksAreOneLineNamingThem() throws Exception {
        Path ref = ref("gptoss-tiny"), q = tmp.resolve("mxfp4"), f = tmp.resolve("f32");
        QuantizedCheckpoints.mxfp4(ref, q, f);
        String s = "model.layers.0.mlp.experts.down_proj_scales";
        Tensor shorter = new Tensor(s, DType.U8, new long[] {8, 64, 1}, MemorySegment.ofArray(new byte[8 * 64]));
        QuantizedCheckpoints.rewrite(q, n -> true, Map.of(s, shorter));
        String m = refused(q);
        assertTrue(m.contains("'" + s + "' has shape [8, 64, 1], expected [8, 64, 2]"), m);
        QuantizedCheckpoints.rewrite(q, n -> !n.equals(s), Map.of());
        assertTrue(refused(q).contains("missing tensor '" + s + "'"), refused(q));
    }
}
