package dev.moe4j.bench;

import dev.moe4j.kernel.Matrix;
import dev.moe4j.kernel.PackedQ4;
import dev.moe4j.kernel.PackedQ4K;
import dev.moe4j.kernel.PackedQ6K;
import dev.moe4j.kernel.PackedQ8;
import dev.moe4j.kernel.Parallel;
import dev.moe4j.kernel.Quantize;
import dev.moe4j.tensor.DType;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * Matrix × vector (decode) and matrix × 16 tokens (an expert's prefill bin) for each weight type, on an
 * OLMoE-mini expert-sized matrix (rows x cols). GFLOP/s = 2·rows·cols·tokens / time.
 *
 * <pre>mvn -q -Pbench -pl moe4j-bench -am package -DskipTests
 * java --add-modules jdk.incubator.vector -jar moe4j-bench/target/benchmarks.jar -p threads=2</pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class KernelBench {
    /** The _R16 types: Q4_0, Q8_0, Q4_K and Q6_K repacked as at model load (what inference runs for those matrices). */
    @Param({"F32", "F16", "BF16", "Q8_0", "Q8_0_R16", "Q4_0", "Q4_0_R16", "Q4_K", "Q4_K_R16", "Q6_K", "Q6_K_R16"})
    public String dtype;

    @Param({"2048"})
    public int rows;

    @Param({"1024"})
    public int cols;

    @Param({"1"})
    public int threads;

    private Matrix m;
    private float[] x, out;
    private static final int TOKENS = 16;

    @Setup
    public void setup() {
        Parallel.setThreads(threads);
        DType t = DType.valueOf(dtype);
        Random r = new Random(1);
        float[] w = new float[rows * cols];
        for (int i = 0; i < w.length; i++) w[i] = (float) r.nextGaussian() * 0.02f;
        DType stored = switch (t) {
            case Q4_0_R16 -> DType.Q4_0;
            case Q8_0_R16 -> DType.Q8_0;
            case Q4_K_R16 -> DType.Q4_K;
            case Q6_K_R16 -> DType.Q6_K;
            default -> t;
        };
        MemorySegment seg = Arena.global().allocate(stored.bytesFor(w.length), 64);
        Quantize.encode(stored, w, 0, w.length, seg, 0);
        if (t.isPacked()) {
            MemorySegment packed = Arena.global().allocate(t.bytesFor(w.length), 64);
            for (int p = 0; p < rows / PackedQ4.PANEL; p++) {
                switch (t) {
                    case Q4_0_R16 -> PackedQ4.packPanel(seg, packed, cols, p);
                    case Q8_0_R16 -> PackedQ8.packPanel(seg, packed, cols, p);
                    case Q4_K_R16 -> PackedQ4K.packPanel(seg, packed, cols, p);
                    default -> PackedQ6K.packPanel(seg, packed, cols, p);
                }
            }
            seg = packed;
        }
        m = new Matrix("w", t, seg, 0, rows, cols);
        x = new float[TOKENS * cols];
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
        out = new float[TOKENS * rows];
    }

    @Benchmark
    public float matvec() {
        m.matvec(x, 0, out, 0);
        return out[0];
    }

    @Benchmark
    public float matmul16() {
        m.matmul(x, TOKENS, out);
        return out[0];
    }
}
