package dev.moe4j.train;

import dev.moe4j.train.data.BuiltinCorpus;
import dev.moe4j.train.export.Exporter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/** The same model exports the same bytes, whatever folder it is written to and however often. */
class ExportDeterminismTest {
    @Test
    void exportsAreByteIdentical(@TempDir Path dir) throws Exception {
        BuiltinCorpus corpus = new BuiltinCorpus(null);
        ModelSpec spec = new ModelSpec(257, 16, 2, 2, 4, 2, 12, 0, 12, 10000, 1e-5, RouterSpec.softmax(true), true);
        Trainer t = Trainer.create(spec, TrainOptions.defaults(3), corpus, "builtin", null);
        t.run(null);
        Exporter ex = new Exporter(t.model(), corpus.vocabulary());
        Path a = dir.resolve("first"), b = dir.resolve("second-elsewhere");
        for (Path p : List.of(a, b)) {
            ex.writeHuggingFace(p.resolve("hf"));
            ex.writeGguf(p.resolve("model.gguf"));
        }
        ex.writeGguf(dir.resolve("again.gguf"));
        assertArrayEquals(Files.readAllBytes(a.resolve("model.gguf")), Files.readAllBytes(b.resolve("model.gguf")), "model.gguf");
        assertArrayEquals(Files.readAllBytes(a.resolve("model.gguf")), Files.readAllBytes(dir.resolve("again.gguf")), "model.gguf written twice");
        for (String f : Exporter.HF_FILES) {
            assertArrayEquals(Files.readAllBytes(a.resolve("hf").resolve(f)), Files.readAllBytes(b.resolve("hf").resolve(f)), f);
        }
        assertFalse(Files.exists(Exporter.scratchFolder(a.resolve("model.gguf"))), "the scratch folder is removed");
        try (var files = Files.list(a)) {
            assertEquals(List.of("hf", "model.gguf"), files.map(p -> p.getFileName().toString()).sorted().toList());
        }
    }
}
