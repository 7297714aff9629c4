package dev.moe4j.model;

import dev.moe4j.tensor.DType;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Path;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Checkpoints of every architecture in shapes the reference files do not have (odd head counts,
 * explicit head_dim, other expert counts, top-k and rope bases), in every storage layout, against an
 * independent double-precision forward pass.
 */
class UnseenShapesTest {
    @TempDir Path tmp;

    static Stream<Arguments> shapes() {
        return Stream.of(
                //              arch                      vocab hid lay hd kv hdim  E  k  ffn  shared theta
                Arguments.of(Architecture.MIXTRAL,   97, 48, 2, 6, 3, 8, 5, 3, 40, 0, 500000.0),
                Arguments.of(Architecture.MIXTRAL,   61, 32, 3, 4, 1, 8, 4, 1, 24, 0, 10000.0),
                Arguments.of(Architecture.QWEN2_MOE, 83, 32, 2, 4, 1, 8, 6, 2, 16, 24, 1000000.0),
                Arguments.of(Architecture.QWEN3_MOE, 71, 40, 2, 5, 5, 12, 7, 3, 20, 0, 20000.0),
                Arguments.of(Architecture.OLMOE,     89, 32, 3, 4, 2, 8, 9, 4, 16, 0, 10000.0));
    }

    @ParameterizedTest(name = "{0} hidden={2} heads={4}/{5} head_dim={6} experts={7} top-{8}")
    @MethodSource("shapes")
    void everyLayoutMatchesTheNaiveReference(Architecture arch, int vocab, int hidden, int layers, int heads, int kvHeads,
                                             int headDim, int experts, int topK, int ffn, int shared, double theta) {
        SyntheticModel sm = new SyntheticModel(arch, vocab, hidden, layers, heads, kvHeads, headDim, experts, topK, ffn, shared, theta, 42);
        int[] ids = new int[11];
        for (int i = 0; i < ids.length; i++) ids[i] = (i * 37 + 5) % vocab;
        double[][] ref = new NaiveReference(sm).forward(ids);

        sm.writeHf(tmp.resolve("hf"), false);
        sm.writeHf(tmp.resolve("hf-fused"), true);
        sm.writeGguf(tmp.resolve("merged.gguf"), false, DType.F32);
        sm.writeGguf(tmp.resolve("per-expert.gguf"), true, DType.F32);
        sm.writeGguf(tmp.resolve("f16.gguf"), false, DType.F16);
        for (String variant : new String[] {"hf", "hf-fused", "merged.gguf", "per-expert.gguf", "f16.gguf"}) {
            try (Model model = Model.load(tmp.resolve(variant))) {
                MoeTransformer tf = model.transformer();
                float[] got = tf.forward(ids, tf.newCache(ids.length), true);
                double err = relativeError(got, ref);
                double bound = variant.startsWith("f16") ? 5e-3 : 1e-5;
                assertTrue(err <= bound, variant + ": relative error " + err + " > " + bound);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @org.junit.jupiter.params.provider.EnumSource(value = DType.class, names = {"BF16", "Q8_0", "Q4_0"})
    void quantizedFilesStayCloseToTheReference(DType type) {
        SyntheticModel sm = new SyntheticModel(Architecture.QWEN2_MOE, 50, 64, 2, 4, 2, 16, 6, 2, 32, 64, 10000.0, 7);
        int[] ids = {3, 14, 15, 9, 26, 5, 35, 8, 9, 7};
        double[][] ref = new NaiveReference(sm).forward(ids);
        sm.writeGguf(tmp.resolve("q.gguf"), false, type);
        try (Model model = Model.load(tmp.resolve("q.gguf"))) {
            MoeTransformer tf = model.transformer();
            double err = relativeError(tf.forward(ids, tf.newCache(ids.length), true), ref);
            double bound = switch (type) { case BF16 -> 2e-2; case Q8_0 -> 5e-2; default -> 0.4; };  // 4-bit weights: ~6% error per weight, compounded over the layers
            assertTrue(err <= bound, type + ": relative error " + err + " > " + bound);
            // Token by token (Q4_0 decodes with 8-bit activations, prefill with floats): as close to the reference.
            KvCache cache = tf.newCache(ids.length);
            int v = ref[0].length;
            float[] stepwise = new float[ids.length * v];
            for (int t = 0; t < ids.length; t++) System.arraycopy(tf.forward(new int[] {ids[t]}, cache, false), 0, stepwise, t * v, v);
            double stepErr = relativeError(stepwise, ref);
            System.out.printf(java.util.Locale.ROOT, "%s file: relative error %.3g in one pass, %.3g token by token%n", type, err, stepErr);
            assertTrue(stepErr <= bound, type + ": token by token, relative error " + stepErr + " > " + bound);
        }
    }

    /**
     * Q4_K and Q6_K matrices whose rows are whole super-blocks (hidden and expert width 256) are repacked at load
     * (Q4_K_R16, Q6_K_R16): decode runs their integer kernels on 8-bit activations, prefill their dequantised
     * panels. A layout slip would put the error near 1; the quantisation alone keeps it far below.
     */
    @ParameterizedTest(name = "{0}")
    @org.junit.jupiter.params.provider.EnumSource(value = DType.class, names = {"Q4_K", "Q6_K"})
    void repackedKQuantFilesStayCloseToTheReference(DType type) {
        SyntheticModel sm = new SyntheticModel(Architecture.QWEN2_MOE, 50, 256, 2, 4, 2, 64, 6, 2, 256, 256, 10000.0, 11);
        int[] ids = {3, 14, 15, 9, 26, 5, 35, 8, 9, 7};
        double[][] ref = new NaiveReference(sm).forward(ids);
        sm.writeGguf(tmp.resolve("k.gguf"), false, type);
        try (Model model = Model.load(tmp.resolve("k.gguf"))) {
            MoeTransformer tf = model.transformer();
            double err = relativeError(tf.forward(ids, tf.newCache(ids.length), true), ref);
            KvCache cache = tf.newCache(ids.length);
            int v = ref[0].length;
            float[] stepwise = new float[ids.length * v];
            for (int t = 0; t < ids.length; t++) System.arraycopy(tf.forward(new int[] {ids[t]}, cache, false), 0, stepwise, t * v, v);
            double stepErr = relativeError(stepwise, ref);
            System.out.printf(java.util.Locale.ROOT, "%s file, repacked: relative error %.3g in one pass, %.3g token by token%n", type, err, stepErr);
            double bound = type == DType.Q4_K ? 0.3 : 0.1;
            assertTrue(err <= bound, type + ": relative error " + err + " > " + bound);
            assertTrue(stepErr <= bound, type + ": token by token, relative error " + stepErr + " > " + bound);
        }
    }

    static double relativeError(float[] got, double[][] ref) {
        double num = 0, den = 0;
        int v = ref[0].length;
        for (int t = 0; t < ref.length; t++) {
            for (int i = 0; i < v; i++) {
                double d = got[t * v + i] - ref[t][i];
                num += d * d;
                den += ref[t][i] * ref[t][i];
            }
        }
        return Math.sqrt(num / den);
    }
}
