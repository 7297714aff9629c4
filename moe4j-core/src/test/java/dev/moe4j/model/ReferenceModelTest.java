package dev.moe4j.model;

import dev.moe4j.RefsLocator;
import dev.moe4j.format.safetensors.SafetensorsStore;
import dev.moe4j.generate.Generator;
import dev.moe4j.generate.SamplerSettings;
import dev.moe4j.tensor.Tensor;
import dev.moe4j.util.Json;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The acceptance check: every reference checkpoint of a supported architecture, through the
 * safetensors folder and the GGUF files, against what Hugging Face transformers computed.
 */
class ReferenceModelTest {
    static final Set<String> SUPPORTED = Set.of("mixtral", "qwen2_moe", "qwen3_moe", "olmoe", "deepseek_v3", "gpt_oss");

    /** (case folder, model file or folder name, kind) for every model file of a supported architecture. */
    static Stream<Arguments> models() throws Exception {
        Path refs = RefsLocator.refs();
        if (refs == null) return Stream.of(Arguments.of("(no refs)", "", "absent"));
        List<Arguments> out = new ArrayList<>();
        try (Stream<Path> dirs = Files.list(refs)) {
            for (Path d : dirs.sorted().toList()) {
                if (!Files.isRegularFile(d.resolve("config.json"))) continue;
                String type = (String) Json.parseObject(Files.readString(d.resolve("config.json"))).get("model_type");
                if (!SUPPORTED.contains(type)) continue;
                out.add(Arguments.of(d.getFileName().toString(), ".", "f32"));
                if (Files.exists(d.resolve("model-f32.gguf"))) out.add(Arguments.of(d.getFileName().toString(), "model-f32.gguf", "f32"));
                if (Files.exists(d.resolve("model-q8_0.gguf"))) out.add(Arguments.of(d.getFileName().toString(), "model-q8_0.gguf", "q8_0"));
            }
        }
        return out.stream();
    }

    record Prompt(int[] ids, float[] logits, int[] greedy) {}

    static List<Prompt> prompts(Path caseDir) {
        List<Prompt> out = new ArrayList<>();
        try (SafetensorsStore ref = SafetensorsStore.open(caseDir.resolve("reference.safetensors"))) {
            for (int i = 0; ref.find("prompt" + i + ".ids").isPresent(); i++) {
                out.add(new Prompt(longsToInts(ref.find("prompt" + i + ".ids").orElseThrow()),
                        floats(ref.find("prompt" + i + ".logits").orElseThrow()),
                        longsToInts(ref.find("prompt" + i + ".greedy").orElseThrow())));
            }
        }
        return out;
    }

    static int[] longsToInts(Tensor t) {
        int[] r = new int[(int) t.elementCount()];
        for (int i = 0; i < r.length; i++) r[i] = Math.toIntExact(t.data().getAtIndex(ValueLayout.JAVA_LONG_UNALIGNED, i));
        return r;
    }

    static float[] floats(Tensor t) {
        float[] r = new float[(int) t.elementCount()];
        for (int i = 0; i < r.length; i++) r[i] = t.data().getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i);
        return r;
    }

    static double relativeError(float[] got, float[] ref) {
        double num = 0, den = 0;
        for (int i = 0; i < ref.length; i++) {
            double d = got[i] - ref[i];
            num += d * d;
            den += (double) ref[i] * ref[i];
        }
        return Math.sqrt(num / den);
    }

    @ParameterizedTest(name = "{0}/{1}")
    @MethodSource("models")
    void logitsGreedyAndTokensMatchReference(String caseName, String file, String kind) throws Exception {
        Path refs = RefsLocator.refs();
        Assumptions.assumeTrue(refs != null, "skipped: ../shared/refs is absent, so there are no reference checkpoints to compare with");
        Path caseDir = refs.resolve(caseName);
        Map<String, Object> refJson = Json.parseObject(Files.readString(caseDir.resolve("reference.json")));
        List<Object> refPrompts = Json.arr(refJson.get("prompts"));
        try (Model model = Model.load(file.equals(".") ? caseDir : caseDir.resolve(file))) {
            int vocab = model.config().vocabSize();
            List<Prompt> prompts = prompts(caseDir);
            assertEquals(3, prompts.size());
            double worst = 0;
            int agree = 0, positions = 0;
            for (int p = 0; p < prompts.size(); p++) {
                Prompt pr = prompts.get(p);
                String text = (String) Json.obj(refPrompts.get(p)).get("text");
                assertArrayEquals(pr.ids(), model.tokenizer().encode(text, true), "token ids of prompt " + p);

                MoeTransformer tf = model.transformer();
                float[] logits = tf.forward(pr.ids(), tf.newCache(pr.ids().length), true);
                assertEquals(pr.ids().length * vocab, logits.length);
                double err = relativeError(logits, pr.logits());
                worst = Math.max(worst, err);
                for (int t = 0; t < pr.ids().length; t++, positions++) {
                    if (argmax(logits, t * vocab, vocab) == argmax(pr.logits(), t * vocab, vocab)) agree++;
                }
                if (kind.equals("f32")) {
                    assertTrue(err <= 1e-4, "prompt " + p + ": relative error " + err + " > 1e-4");
                    Generator.Result r = new Generator(tf).generate(pr.ids(), pr.greedy().length, SamplerSettings.greedy(), Set.of(), null);
                    assertArrayEquals(pr.greedy(), r.tokens().stream().mapToInt(Integer::intValue).toArray(), "greedy continuation of prompt " + p);
                } else {
                    // DeepSeek's sigmoid group routing flips on small perturbations; llama.cpp itself lands at
                    // 1.4e-1 on that q8_0 file (refs README), so the bound there is looser.
                    double bound = model.config().architecture() == Architecture.DEEPSEEK_V3 ? 0.2 : 0.1;
                    assertTrue(err <= bound, "prompt " + p + ": relative error " + err + " > " + bound + " for " + kind);
                }
            }
            if (!kind.equals("f32")) {
                assertTrue(agree >= 0.9 * positions, "only " + agree + "/" + positions + " argmax positions agree for " + kind);
            }
            // The figures the README quotes come from these lines.
            System.out.printf("reference %-16s %-16s max relative error %.2e, argmax agrees at %d/%d positions%n",
                    caseName, file.equals(".") ? "safetensors" : file, worst, agree, positions);
        }
    }

    @ParameterizedTest(name = "{0}/{1}")
    @MethodSource("models")
    void decodingTokenByTokenEqualsOnePass(String caseName, String file, String kind) {
        Path refs = RefsLocator.refs();
        Assumptions.assumeTrue(refs != null, "skipped: ../shared/refs is absent");
        Path caseDir = refs.resolve(caseName);
        try (Model model = Model.load(file.equals(".") ? caseDir : caseDir.resolve(file))) {
            MoeTransformer tf = model.transformer();
            int vocab = model.config().vocabSize();
            int[] ids = prompts(caseDir).get(2).ids();
            float[] full = tf.forward(ids, tf.newCache(ids.length), true);
            KvCache cache = tf.newCache(ids.length);
            float[] stepwise = new float[full.length];
            for (int t = 0; t < ids.length; t++) {
                float[] l = tf.forward(new int[] {ids[t]}, cache, false);
                System.arraycopy(l, 0, stepwise, t * vocab, vocab);
            }
            double err = relativeError(stepwise, full);
            assertTrue(err <= 1e-6, "token-by-token logits differ from the one-pass logits: relative error " + err);
        }
    }

    static int argmax(float[] v, int off, int n) {
        int best = 0;
        for (int i = 1; i < n; i++) if (v[off + i] > v[off + best]) best = i;
        return best;
    }
}
