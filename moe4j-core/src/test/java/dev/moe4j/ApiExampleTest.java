package dev.moe4j;

import dev.moe4j.generate.Generator;
import dev.moe4j.generate.SamplerSettings;
import dev.moe4j.model.Model;
import dev.moe4j.model.KvCache;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The README's "Use from Java" example, kept compiling and running. */
class ApiExampleTest {
    @Test
    void readmeExampleRuns() {
        Path refs = RefsLocator.refs();
        Assumptions.assumeTrue(refs != null, "skipped: ../shared/refs is absent");
        Path path = refs.resolve("qwen2moe-tiny/model-f32.gguf");

        // --- README example start
        try (Model model = Model.load(path)) {
            var tokenizer = model.tokenizer();
            int[] prompt = tokenizer.encode("The quick brown fox", true);
            Generator.Result result = new Generator(model.transformer())
                    .generate(prompt, 16, SamplerSettings.greedy(), Set.of(tokenizer.eosId()), id -> true);
            String text = tokenizer.decode(result.tokens().stream().mapToInt(Integer::intValue).toArray());

            // Which experts did layer 0 choose for each token of the prompt?
            int[][] experts = new int[prompt.length][];
            KvCache cache = model.transformer().newCache(prompt.length);
            model.transformer().forward(prompt, cache, false, null, (layer, plan) -> {
                if (layer != 0) return;   // the plan is refilled by the layer's next call: read it here
                for (int t = 0; t < plan.tokens(); t++) {
                    experts[t] = new int[plan.topK()];
                    for (int slot = 0; slot < plan.topK(); slot++) experts[t][slot] = plan.expert(t, slot);
                }
            });
            // --- README example end

            assertTrue(result.tokens().size() <= 16 && !result.tokens().isEmpty());
            assertEquals(text, tokenizer.decode(result.tokens().stream().mapToInt(Integer::intValue).toArray()));
            for (int[] chosen : experts) {
                assertEquals(model.config().topK(), chosen.length, "every prompt token was routed");
                for (int e : chosen) assertTrue(e >= 0 && e < model.config().experts());
            }
        }
    }
}
