package dev.moe4j.train;

import dev.moe4j.model.Model;
import dev.moe4j.model.MoeTransformer;
import dev.moe4j.train.data.BuiltinCorpus;
import dev.moe4j.train.export.Exporter;
import dev.moe4j.train.export.Layout;
import dev.moe4j.util.Moe4jException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Exported models, loaded by moe4j's inference, give the logits of the training forward pass. */
class ExportRoundTripTest {
    static final BuiltinCorpus CORPUS = new BuiltinCorpus(null);

    static Trainer trained(ModelSpec spec) {
        Trainer t = Trainer.create(spec, TrainOptions.defaults(6), CORPUS, "builtin", null);
        t.run(null);
        return t;
    }

    static void check(Trainer t, Path dir, Layout expected) {
        MoeModel m = t.model();
        Exporter ex = new Exporter(m, CORPUS.vocabulary());
        assertEquals(expected, ex.layout());
        ex.writeHuggingFace(dir.resolve("hf"));
        ex.writeGguf(dir.resolve("model.gguf"));
        int[] ids = CORPUS.validationBatch(0, 1, m.spec().seqLen()).inputs();
        double[] want = m.logits(ids);
        for (Path p : new Path[] {dir.resolve("hf"), dir.resolve("model.gguf")}) {
            try (Model loaded = Model.load(p)) {
                MoeTransformer tr = loaded.transformer();
                float[] got = tr.forward(ids, tr.newCache(ids.length), true);
                assertEquals(want.length, got.length);
                double max = 0;
                for (int i = 0; i < got.length; i++) max = Math.max(max, Math.abs(got[i] - want[i]));
                System.out.printf("%s %s: max |logit difference| %.2e%n", expected, p.getFileName(), max);
                assertTrue(max <= 1e-4, p + ": max logit difference " + max);
                String text = "x = 12+7;";
                assertArrayEquals(CORPUS.tokenizer().encode(text, false), loaded.tokenizer().encode(text, false));
                assertEquals(text, loaded.tokenizer().decode(loaded.tokenizer().encode(text, false)));
            }
        }
    }

    @Test
    void mixtralLayout(@TempDir Path dir) {
        check(trained(new ModelSpec(257, 16, 2, 2, 4, 2, 12, 0, 12, 10000, 1e-5, RouterSpec.softmax(true), true)), dir, Layout.MIXTRAL);
    }

    @Test
    void qwen2MoeLayoutWithSharedExpertAndNoRenormalisation(@TempDir Path dir) {
        check(trained(new ModelSpec(257, 16, 2, 2, 4, 2, 12, 8, 12, 10000, 1e-5, RouterSpec.softmax(false), true)), dir, Layout.QWEN2_MOE);
    }

    @Test
    void denseModel(@TempDir Path dir) {
        check(trained(new ModelSpec(257, 16, 1, 2, 4, 2, 12, 0, 12, 10000, 1e-5, RouterSpec.softmax(true), true).denseTwin()), dir, Layout.MIXTRAL);
    }

    @Test
    void sigmoidRoutingHasNoPublishedLayout() {
        ModelSpec s = new ModelSpec(257, 16, 1, 2, 4, 2, 12, 0, 12, 10000, 1e-5, RouterSpec.sigmoidBias(0.005), true);
        Moe4jException e = assertThrows(Moe4jException.class, () -> new Exporter(new MoeModel(s, 1), CORPUS.vocabulary()));
        assertTrue(e.getMessage().contains("softmax"), e.getMessage());
    }

    @Test
    void expertChoiceIsRefusedForCausalModels() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () ->
                new ModelSpec(257, 16, 1, 2, 4, 2, 12, 0, 12, 10000, 1e-5, RouterSpec.expertChoice(1), true));
        assertTrue(e.getMessage().contains("causal"), e.getMessage());
    }
}
