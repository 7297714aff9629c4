package dev.moe4j;

import dev.moe4j.generate.Generator;
import dev.moe4j.generate.SamplerSettings;
import dev.moe4j.model.Model;
import dev.moe4j.moe.RoutingPlan;
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

            // Which experts did layer 0 choose for the last token it saw?
            RoutingPlan plan = model.transformer().blocks()[0].moe().lastPlan();
            int[] experts = new int[plan.topK()];
            for (int slot = 0; slot < plan.topK(); slot++) experts[slot] = plan.expert(plan.tokens() - 1, slot);
            // --- README example end

            assertTrue(result.tokens().size() <= 16 && !result.tokens().isEmpty());
            assertEquals(text, tokenizer.decode(result.tokens().stream().mapToInt(Integer::intValue).toArray()));
            assertEquals(1, plan.tokens(), "the last forward call was one decode step");
            for (int e : experts) assertTrue(e >= 0 && e < model.config().experts());
        }
    }
}
