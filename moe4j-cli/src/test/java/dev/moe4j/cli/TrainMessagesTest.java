package dev.moe4j.cli;

import dev.moe4j.util.Units;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static dev.moe4j.cli.TrainRunSafetyTest.assertOneLineError;
import static dev.moe4j.cli.TrainRunSafetyTest.run;
import static dev.moe4j.cli.TrainRunSafetyTest.train;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What train and demo print: short numbers at any magnitude, README's units, errors naming the option at fault. */
class TrainMessagesTest {
    /** A size as Units writes it: three significant digits (or a whole number of bytes) and a binary unit spelled out. */
    static final String SIZE = "(\\d\\.\\d\\d|\\d\\d\\.\\d|\\d{3,4}) (KiB|MiB|GiB|TiB)|\\d+ bytes";

    @Test
    void aDivergingZLossPrintsShortNumbers(@TempDir Path dir) {
        // the tester's case: with this learning rate and no clipping the router logits explode (z-loss ~1e150 by step 20)
        TrainRunSafetyTest.Run r = run("train", "--steps", "20", "--layers", "1", "--dim", "32", "--lr", "1e6", "--clip", "0",
                "--no-export", "--out", dir.resolve("run").toString());
        assertEquals(0, r.code(), r.err());
        Matcher z = Pattern.compile("z-loss (\\S+)\\.\\n").matcher(r.out());
        assertTrue(z.find(), r.out());
        assertTrue(Double.parseDouble(z.group(1)) > 1e20, "the z-loss exploded, as this test needs: " + z.group(1));
        String all = (r.out() + r.err()).replace(dir.toString(), "TMP");  // the temporary folder's name has digits of its own
        assertFalse(Pattern.compile("\\d{12}").matcher(all).find(), "no number of a dozen digits or more: " + all);
        assertTrue(r.err().contains(" z " + z.group(1) + " "), "the progress bar shows the same short z-loss: " + r.err());
    }

    @Test
    void aModelTooLargeForTheHeapIsReportedInReadmesUnits(@TempDir Path dir) {
        TrainRunSafetyTest.Run r = run("train", "--layers", "200", "--dim", "4096", "--out", dir.resolve("run").toString());
        assertOneLineError(r, "training this model (14.7 B parameters, batch 16 x 64 tokens) needs about 539 GiB of memory",
                "more than the JVM's " + Units.bytes(Runtime.getRuntime().maxMemory()) + " (raise it");
        assertFalse(Files.exists(dir.resolve("run")));
    }

    @Test
    void optionErrorsNameTheOption(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("run");
        assertOneLineError(run(train(out, "--steps", "0")), "invalid --steps: 0 (must be at least 1)");
        assertOneLineError(run("train", "--dim", "33", "--out", out.toString()), "invalid --heads: 4 (--dim 33 must split into 4 heads");
        assertOneLineError(run(train(out, "--top-k", "5")), "invalid --top-k: 5 (must be 1..4, the --experts)");
        assertOneLineError(run(train(out, "--router", "random")), "invalid --router: 'random'");
        assertOneLineError(run(train(out, "--lr", "-1")), "invalid --lr: -1.0");
        TrainRunSafetyTest.Run demo = run("demo", "--steps", "0", "--out", out.toString());
        assertOneLineError(demo, "invalid --steps: 0");
        assertTrue(demo.out().isEmpty(), "refused before the introduction: " + demo.out());
        assertFalse(Files.exists(out), "nothing was created");
    }

    @Test
    void dataThatIsNotARegularFileIsNamedAsSuch(@TempDir Path dir) {
        Path out = dir.resolve("run");
        assertOneLineError(run(train(out, "--data", dir.toString())), dir + ": is a folder, not a text file");
        Path devNull = Path.of("/dev/null");
        Assumptions.assumeTrue(Files.exists(devNull), "skipped the device case: no /dev/null here");
        assertOneLineError(run(train(out, "--data", devNull.toString())), "/dev/null: not a regular file (a device, pipe or socket)");
        assertFalse(Files.exists(out));
    }
}
