package dev.moe4j.kernel;

import dev.moe4j.format.gguf.GgufFile;
import dev.moe4j.format.gguf.GgufWriter;
import dev.moe4j.tensor.DType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;

class WarmupTest {
    @TempDir Path tmp;

    @Test
    void warmsEveryWeightTypeOfAStoreAndSkipsWhatItCannotUse() {
        SplittableRandom r = new SplittableRandom(3);
        float[] w = new float[16 * 512];
        for (int i = 0; i < w.length; i++) w[i] = (float) r.nextDouble(-1, 1);
        GgufWriter g = new GgufWriter();
        g.putString("general.architecture", "test");
        for (DType t : new DType[] {DType.F32, DType.F16, DType.BF16, DType.Q8_0, DType.Q4_0, DType.Q4_K, DType.Q6_K}) {
            g.addTensor("w." + t, t, new long[] {16, 512}, w);
        }
        g.addTensor("norm", DType.F32, new long[] {512}, new float[512]);   // 1-D: skipped
        Path f = tmp.resolve("w.gguf");
        g.write(f);
        try (GgufFile store = GgufFile.open(f)) {
            assertDoesNotThrow(() -> Warmup.run(store));
            assertDoesNotThrow(() -> Warmup.run(store));   // second time: nothing left to do
        }
    }
}
