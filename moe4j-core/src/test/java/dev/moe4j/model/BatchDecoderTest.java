package dev.moe4j.model;

import dev.moe4j.RefsLocator;
import dev.moe4j.generate.Sampler;
import dev.moe4j.moe.RoutingPlan;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** A batched decode step must give each sequence the logits it would get alone. */
class BatchDecoderTest {

    static Path model(String name) {
        Path refs = RefsLocator.refs();
        Assumptions.assumeTrue(refs != null, "shared/refs not found above " + Path.of("").toAbsolutePath() + ": skipped");
        Path p = refs.resolve(name);
        Assumptions.assumeTrue(Files.isDirectory(p), p + " is absent: skipped");
        return p;
    }

    @ParameterizedTest
    @ValueSource(strings = {"mixtral-tiny", "qwen2moe-tiny", "qwen3moe-tiny", "olmoe-tiny", "deepseekv3-tiny", "gptoss-tiny"})
    void batchedLogitsEqualSingleSequenceLogits(String name) {
        try (Model m = Model.load(model(name))) {
            MoeTransformer t = m.transformer();
            int vocab = t.config().vocabSize();
            // Prompts of different lengths, so the sequences sit at different positions.
            int[][] prompts = {{1, 5, 9, 200}, {3}, {7, 8, 9, 10, 11, 12, 13}};
            int b = prompts.length, steps = 5;
            KvCache[] batched = new KvCache[b], alone = new KvCache[b];
            int[] next = new int[b];
            for (int s = 0; s < b; s++) {
                batched[s] = t.newCache(32);
                alone[s] = t.newCache(32);
                t.forward(prompts[s], batched[s], false);
                next[s] = Sampler.argmax(t.forward(prompts[s], alone[s], false));
            }
            BatchDecoder decoder = new BatchDecoder(t);
            int[] routed = new int[1];
            for (int step = 0; step < steps; step++) {
                float[] logits = decoder.decode(next.clone(), batched, (layer, plan) -> routed[0] += total(plan));
                for (int s = 0; s < b; s++) {
                    float[] single = t.forward(new int[] {next[s]}, alone[s], false);
                    float[] row = Arrays.copyOfRange(logits, s * vocab, (s + 1) * vocab);
                    assertEquals(0, maxAbsDiff(single, row), 1e-5, name + " step " + step + " sequence " + s);
                    assertEquals(alone[s].length(), batched[s].length());
                    next[s] = Sampler.argmax(single);
                }
            }
            int moeLayers = 0;
            for (int l = 0; l < t.config().layers(); l++) if (!t.config().isDense(l)) moeLayers++;
            assertEquals(steps * b * moeLayers * t.config().topK(), routed[0], "every token routed to k experts per MoE layer");
        }
    }

    @Test
    void rejectsSharedCachesAndMismatchedInput() {
        try (Model m = Model.load(model("mixtral-tiny"))) {
            MoeTransformer t = m.transformer();
            KvCache c = t.newCache(4);
            BatchDecoder d = new BatchDecoder(t);
            assertThrows(IllegalArgumentException.class, () -> d.decode(new int[] {1, 2}, new KvCache[] {c, c}));
            assertThrows(IllegalArgumentException.class, () -> d.decode(new int[] {1}, new KvCache[] {c, t.newCache(4)}));
            assertThrows(RuntimeException.class, () -> d.decode(new int[] {-1}, new KvCache[] {c}));
        }
    }

    private static int total(RoutingPlan p) {
        int n = 0;
        for (int l : p.loads()) n += l;
        return n;
    }

    private static double maxAbsDiff(float[] a, float[] b) {
        double m = 0;
        for (int i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
        return m;
    }
}
