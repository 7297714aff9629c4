package dev.moe4j.train;

import dev.moe4j.model.Model;
import dev.moe4j.moe.RoutingPlan;
import dev.moe4j.train.data.BuiltinCorpus;
import dev.moe4j.train.export.Exporter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The README's library example, shrunk: build from a config, train, route a batch, read the plan, export. */
class LibraryApiTest {
    @Test
    void readmeExample(@TempDir Path dir) {
        ModelSpec spec = new ModelSpec(257, 16, 2, 2, 8, 2, 16, 0, 16, 10000, 1e-5, RouterSpec.softmax(true), true);
        BuiltinCorpus data = new BuiltinCorpus(null);
        Trainer trainer = Trainer.create(spec, TrainOptions.defaults(5), data, "builtin", dir.resolve("run"));
        int[] steps = {0};
        trainer.run(step -> steps[0]++);
        assertEquals(5, steps[0]);
        assertTrue(Files.exists(dir.resolve("run/checkpoint.bin")));

        MoeModel model = trainer.model();
        int[] ids = data.tokenizer().encode("12+7=19;", false);
        RoutingPlan[] plans = model.route(ids);
        assertEquals(2, plans.length);
        assertEquals(ids.length * 2, java.util.Arrays.stream(plans[0].loads()).sum());
        assertTrue(plans[0].stats().maxOverMean() >= 1.0 && plans[0].stats().zLoss() > 0 && plans[0].stats().balanceLoss() > 0);
        new Exporter(model, data.vocabulary()).writeHuggingFace(dir.resolve("run/hf"));
        try (Model loaded = Model.load(dir.resolve("run/hf"))) {
            assertEquals(8, loaded.config().experts());
        }
    }
}
