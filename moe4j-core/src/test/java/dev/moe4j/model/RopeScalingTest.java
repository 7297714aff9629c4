package dev.moe4j.model;

import dev.moe4j.format.gguf.GgufQuantizer;
import dev.moe4j.tensor.DType;
import dev.moe4j.util.Moe4jException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Scaled rotary embeddings (linear, dynamic, yarn, llama3, longrope) against an independent double-precision forward
 * pass whose frequencies are transcribed from transformers' {@code modeling_rope_utils} ({@link NaiveRope}), over 13
 * tokens: positions past the original context of 8 (and, for dynamic, past max_position_embeddings).
 */
class RopeScalingTest {
    @TempDir Path tmp;
    static final int[] IDS = {5, 42, 11, 7, 30, 2, 19, 25, 33, 1, 8, 40, 16};

    private SyntheticModel model(Architecture arch, int context, String rope) {
        SyntheticModel sm = new SyntheticModel(arch, 47, 32, 2, 4, 2, 8, 5, 2, 24, arch == Architecture.QWEN2_MOE ? 16 : 0,
                10000.0, 17);
        sm.context = context;
        sm.ropeParameters = rope;
        return sm;
    }

    /** The checkpoint's logits on ids in one pass against the reference; returns the relative error. */
    private static double error(Path model, int[] ids, double[][] ref) {
        try (Model m = Model.load(model)) {
            MoeTransformer tf = m.transformer();
            return UnseenShapesTest.relativeError(tf.forward(ids, tf.newCache(ids.length), true), ref);
        }
    }

    private void check(SyntheticModel sm, NaiveRope rope, boolean alsoGguf) {
        double[][] ref = new NaiveReference(sm, rope).forward(IDS);
        // The scaling must matter at these positions, or the test would not see a wrong one.
        double plain = UnseenShapesTest.relativeError(toFloats(new NaiveReference(sm).forward(IDS)), ref);
        assertTrue(plain > 1e-3, "scaling changes the logits by only " + plain);
        Path hf = tmp.resolve(sm.arch + "-hf");
        sm.writeHf(hf, false);
        double err = error(hf, IDS, ref);
        assertTrue(err <= 1e-5, sm.arch + " safetensors: relative error " + err);
        if (alsoGguf) {
            Path gguf = tmp.resolve(sm.arch + ".gguf");
            HfToGguf.quantize(hf, gguf, DType.F32, new GgufQuantizer.Listener() {});
            double e2 = error(gguf, IDS, ref);
            assertTrue(e2 <= 1e-5, sm.arch + " GGUF: relative error " + e2);
        }
    }

    private static float[] toFloats(double[][] x) {
        float[] out = new float[x.length * x[0].length];
        for (int t = 0; t < x.length; t++) for (int i = 0; i < x[t].length; i++) out[t * x[t].length + i] = (float) x[t][i];
        return out;
    }

    @Test
    void yarnAsQwen3LongContextThroughSafetensorsAndGguf() {
        check(model(Architecture.QWEN3_MOE, 32, "\"rope_type\": \"yarn\", \"factor\": 4.0, \"original_max_position_embeddings\": 8"),
                NaiveRope.yarn(10000.0, 8, 4.0, 8, null, 32, 1, null, null, true), true);
    }

    @Test
    void yarnWithBetasMscaleAndExplicitFactorThroughAdjacentPairGguf() {
        // Mixtral's GGUF rotates adjacent pairs (q/k rows permuted): the scaled tables must follow.
        check(model(Architecture.MIXTRAL, 64, "\"type\": \"yarn\", \"factor\": 16, \"original_max_position_embeddings\": 4, "
                        + "\"beta_fast\": 8, \"beta_slow\": 0.5, \"mscale\": 0.9, \"mscale_all_dim\": 0.6"),
                NaiveRope.yarn(10000.0, 8, 16, 4, null, 8, 0.5, 0.9, 0.6, true), true);
        check(model(Architecture.OLMOE, 64, "\"rope_type\": \"yarn\", \"factor\": 8, \"original_max_position_embeddings\": 4, "
                        + "\"attention_factor\": 1.3, \"truncate\": false"),
                NaiveRope.yarn(10000.0, 8, 8, 4, 1.3, 32, 1, null, null, false), false);
    }

    @Test
    void linearThroughSafetensorsAndGguf() {
        check(model(Architecture.MIXTRAL, 64, "\"rope_type\": \"linear\", \"factor\": 2.5"), NaiveRope.linear(10000.0, 8, 2.5), true);
    }

    @Test
    void dynamicPastMaxPositionEmbeddings() {
        // transformers recomputes the base from the call's sequence length (13) once it passes max_position_embeddings (8).
        check(model(Architecture.OLMOE, 8, "\"rope_type\": \"dynamic\", \"factor\": 3.0"), NaiveRope.dynamic(10000.0, 8, 3.0, 8), false);
    }

    @Test
    void llama3() {
        check(model(Architecture.QWEN2_MOE, 64, "\"rope_type\": \"llama3\", \"factor\": 8.0, \"low_freq_factor\": 1.0, "
                        + "\"high_freq_factor\": 4.0, \"original_max_position_embeddings\": 8"),
                NaiveRope.llama3(10000.0, 8, 8.0, 1.0, 4.0, 8), false);
    }

    @Test
    void longropeUsesShortFactorsWithinAndLongFactorsBeyondTheOriginalContext() {
        double[] shortF = {1.0, 1.3, 2.1, 3.0}, longF = {1.2, 2.5, 6.0, 11.0};
        String rope = "\"rope_type\": \"longrope\", \"short_factor\": [1.0, 1.3, 2.1, 3.0], \"long_factor\": [1.2, 2.5, 6.0, 11.0], "
                + "\"original_max_position_embeddings\": 8";
        SyntheticModel sm = model(Architecture.MIXTRAL, 32, rope);
        NaiveRope naive = NaiveRope.longrope(10000.0, 8, shortF, longF, null, 8, 32);
        check(sm, naive, false);
        int[] shortIds = java.util.Arrays.copyOf(IDS, 6);   // within the original context: the short factors
        double err = error(tmp.resolve(sm.arch + "-hf"), shortIds, new NaiveReference(sm, naive).forward(shortIds));
        assertTrue(err <= 1e-5, "short sequence: relative error " + err);
    }

    @Test
    void scalingsLlamaCppCannotHoldAreNotWrittenAsGguf() {
        SyntheticModel sm = model(Architecture.OLMOE, 8, "\"rope_type\": \"dynamic\", \"factor\": 3.0");
        Path hf = tmp.resolve("dyn");
        sm.writeHf(hf, false);
        Moe4jException e = assertThrows(Moe4jException.class,
                () -> HfToGguf.quantize(hf, tmp.resolve("dyn.gguf"), DType.F32, new GgufQuantizer.Listener() {}));
        assertEquals(hf + ": dynamic rope scaling cannot be written as GGUF yet (its GGUF form is a tensor of factors)", e.getMessage());
        assertFalse(java.nio.file.Files.exists(tmp.resolve("dyn.gguf")));
        // GGUF has no truncate key: a file's yarn takes the family's, so another value cannot be written.
        SyntheticModel yarn = model(Architecture.OLMOE, 64, "\"rope_type\": \"yarn\", \"factor\": 8, \"truncate\": false");
        Path hf2 = tmp.resolve("yarn");
        yarn.writeHf(hf2, false);
        e = assertThrows(Moe4jException.class, () -> HfToGguf.quantize(hf2, tmp.resolve("yarn.gguf"), DType.F32, new GgufQuantizer.Listener() {}));
        assertEquals(hf2 + ": yarn rope scaling with truncate=false has no GGUF key (files of olmoe are read with truncate=true)", e.getMessage());
    }
}
