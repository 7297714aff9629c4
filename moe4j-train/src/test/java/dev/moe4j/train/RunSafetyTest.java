package dev.moe4j.train;

import dev.moe4j.train.data.BuiltinCorpus;
import dev.moe4j.train.data.TextFileDataset;
import dev.moe4j.util.Moe4jException;
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

/** A run is never overwritten, extended only on its own terms, and stops on divergence with its last good checkpoint. */
class RunSafetyTest {
    static final BuiltinCorpus CORPUS = new BuiltinCorpus(null);
    static final ModelSpec SPEC = new ModelSpec(257, 8, 1, 2, 4, 2, 8, 0, 8, 10000, 1e-5, RouterSpec.softmax(true), true);

    @Test
    void aFolderHoldingARunIsNotOverwritten(@TempDir Path dir) throws Exception {
        Trainer.create(SPEC, TrainOptions.defaults(2), CORPUS, "builtin", dir).run(null);
        byte[] before = Files.readAllBytes(dir.resolve(Checkpoint.FILE));
        Moe4jException e = assertThrows(Moe4jException.class, () -> Trainer.create(SPEC, TrainOptions.defaults(3), CORPUS, "builtin", dir));
        assertTrue(e.getMessage().contains("already holds a run"), e.getMessage());
        assertArrayEquals(before, Files.readAllBytes(dir.resolve(Checkpoint.FILE)));
    }

    @Test
    void createWritesTheStepZeroCheckpoint(@TempDir Path dir) {
        Trainer.create(SPEC, TrainOptions.defaults(3), CORPUS, "builtin", dir);
        assertEquals(0, Checkpoint.read(dir).step());
        assertEquals(3, Trainer.resume(dir, CORPUS).options().steps());
    }

    @Test
    void moreStepsExtendAFinishedRunOnTheNewSchedule(@TempDir Path dir) {
        TrainOptions four = TrainOptions.defaults(4);
        Trainer first = Trainer.create(SPEC, four, CORPUS, "builtin", dir);
        first.run(null);
        List<Trainer.StepInfo> before = first.history();
        Checkpoint c = Checkpoint.read(dir);
        TrainOptions seven = c.options().withSteps(7);
        Trainer more = Trainer.resume(c, dir, CORPUS, seven);
        more.run(null);
        assertEquals(7, more.step());
        assertEquals(7, Checkpoint.read(dir).step());
        assertEquals(7, Checkpoint.read(dir).options().steps());
        List<Trainer.StepInfo> h = more.history();
        assertEquals(7, h.size());
        for (int i = 0; i < 4; i++) assertEquals(before.get(i).loss(), h.get(i).loss(), "step " + (i + 1) + " is kept");
        for (int i = 4; i < 7; i++) assertEquals(seven.learningRate(i), h.get(i).lr(), "step " + (i + 1) + " follows the 7-step schedule");
        assertTrue(h.get(4).lr() > h.get(3).lr(), "the finished run's minimum rate rises again to the longer schedule");
    }

    @Test
    void resumeRefusesChangesThatAlterTheRun(@TempDir Path dir) {
        Trainer.create(SPEC, TrainOptions.defaults(3), CORPUS, "builtin", dir).run(null);
        Checkpoint c = Checkpoint.read(dir);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Trainer.resume(c, dir, CORPUS, c.options().withBalance(0.5)));
        assertTrue(e.getMessage().contains("cannot change balanceCoef (the run has 0.01, given 0.5)"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Trainer.resume(c, dir, CORPUS, c.options().withSteps(2)));
        assertTrue(e.getMessage().contains("invalid steps: 2 (the run has completed 3)"), e.getMessage());
        Trainer ok = Trainer.resume(c, dir, CORPUS, c.options().withCheckpointEvery(1).withEvalEvery(1));
        assertEquals(1, ok.options().checkpointEvery());
    }

    @Test
    void resumeRefusesOtherData(@TempDir Path dir) throws Exception {
        Path text = dir.resolve("a.txt");
        Files.writeString(text, "the cat sat on the mat. ".repeat(200));
        TextFileDataset a = new TextFileDataset(text, 257, dir.resolve("work"));
        Trainer.create(SPEC, TrainOptions.defaults(2), a, "file:257:" + text, dir.resolve("run")).run(null);
        Files.writeString(text, "the dog sat on the log. ".repeat(200));
        TextFileDataset b = new TextFileDataset(text, 257, dir.resolve("work"));
        Moe4jException e = assertThrows(Moe4jException.class, () -> Trainer.resume(dir.resolve("run"), b));
        assertTrue(e.getMessage().contains("the data differs from what the run trained on"), e.getMessage());
        assertThrows(Moe4jException.class, () -> Trainer.resume(dir.resolve("run"), CORPUS));
    }

    /** A learning rate of 1e300 makes step 2's gradient non-finite: the run stops there, and step 1's checkpoint stays. */
    @Test
    void divergenceStopsTheRunAndKeepsTheLastGoodCheckpoint(@TempDir Path dir) {
        TrainOptions wild = new TrainOptions(10, 4, 1e300, 0.1, 1, 0.01, 1.0, 0.01, 1e-3, 1234, 1, 0, 2);
        Trainer t = Trainer.create(SPEC, wild, CORPUS, "builtin", dir);
        Trainer.DivergedException e = assertThrows(Trainer.DivergedException.class, () -> t.run(null));
        assertTrue(e.getMessage().startsWith("step 2: ") && e.getMessage().contains("still holds step 1"), e.getMessage());
        Checkpoint kept = Checkpoint.read(dir);
        assertEquals(1, kept.step());
        for (double w : kept.weights()) assertTrue(Double.isFinite(w));
        assertFalse(Files.exists(dir.resolve(Checkpoint.FILE + ".tmp")));
    }

    @Test
    void settingsNameTheirField() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new TrainOptions(10, 4, 3e-3, 0.1, 1, Double.NaN, 1.0, 0.01, 1e-3, 1, 0, 0, 2));
        assertEquals("invalid weight-decay: NaN (must be a finite number >= 0.0)", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> SPEC.withRouter(RouterSpec.softmax(true).withCapacity(Double.POSITIVE_INFINITY)));
        assertTrue(e.getMessage().startsWith("invalid capacity-factor: Infinity"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> new ModelSpec(257, 8, 1, 2, 4, 2, 0, 0, 8, 10000, 1e-5, RouterSpec.softmax(true), true));
        assertTrue(e.getMessage().startsWith("invalid ffn: 0"), e.getMessage());
    }

    @Test
    void aModelTooLargeForTheHeapIsRefusedBeforeAllocating() {
        ModelSpec huge = new ModelSpec(50000, 8192, 64, 64, 64, 2, 8192, 0, 4096, 10000, 1e-5, RouterSpec.softmax(true), true);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Trainer.create(huge, TrainOptions.defaults(10), CORPUS, "builtin", null));
        assertTrue(e.getMessage().contains("more than the JVM's"), e.getMessage());
        ModelSpec overflow = new ModelSpec(257, 1 << 14, 1, 2, 1 << 10, 2, 1 << 14, 0, 8, 10000, 1e-5, RouterSpec.softmax(true), true);
        e = assertThrows(IllegalArgumentException.class, () -> new Params(overflow));
        assertTrue(e.getMessage().contains("more than 2^31-1 parameters"), e.getMessage());
    }
}
