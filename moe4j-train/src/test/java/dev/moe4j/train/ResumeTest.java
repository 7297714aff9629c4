package dev.moe4j.train;

import dev.moe4j.train.data.BuiltinCorpus;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A run killed mid-way and resumed from its last checkpoint produces exactly the losses of an uninterrupted run. */
class ResumeTest {
    static final BuiltinCorpus CORPUS = new BuiltinCorpus(null);
    static final ModelSpec SPEC = new ModelSpec(257, 16, 2, 2, 4, 2, 16, 8, 16,
            10000, 1e-5, RouterSpec.noisy().withCapacity(1.25), true);

    static final class Killed extends RuntimeException {}

    @Test
    void resumedRunMatchesUninterruptedRunBitForBit(@TempDir Path dir) throws Exception {
        TrainOptions opt = TrainOptions.defaults(12).withCheckpointEvery(4).withEvalEvery(6);
        Trainer full = Trainer.create(SPEC, opt, CORPUS, "builtin", dir.resolve("full"));
        full.run(null);

        Path run = dir.resolve("killed");
        Trainer first = Trainer.create(SPEC, opt, CORPUS, "builtin", run);
        assertThrows(Killed.class, () -> first.run(i -> { if (i.step() == 10) throw new Killed(); }));
        assertTrue(Files.exists(run.resolve("checkpoint.bin")));
        assertFalse(Files.exists(run.resolve("checkpoint.bin.tmp")), "a finished write leaves no temporary file");

        Trainer resumed = Trainer.resume(run, CORPUS);
        assertEquals(8, resumed.step(), "the last checkpoint before the kill was at step 8");
        resumed.run(null);
        List<Trainer.StepInfo> a = full.history(), b = resumed.history();
        assertEquals(a.size(), b.size());
        for (int i = 0; i < a.size(); i++) {
            assertEquals(Double.doubleToLongBits(a.get(i).loss()), Double.doubleToLongBits(b.get(i).loss()), "loss at step " + (i + 1));
            assertEquals(Double.doubleToLongBits(a.get(i).valLoss()), Double.doubleToLongBits(b.get(i).valLoss()), "val loss at step " + (i + 1));
        }
        assertArrayEquals(full.model().w, resumed.model().w);
    }
}
