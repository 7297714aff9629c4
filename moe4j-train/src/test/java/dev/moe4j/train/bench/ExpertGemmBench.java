package dev.moe4j.train.bench;

import dev.moe4j.train.Ops;
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

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * The training engine's expert GEMMs on one expert's bin: {@code rows × in} times {@code out × in} weights, forward
 * and both backward products (each 2·rows·in·out FLOPs). GFLOP/s = 2·rows·in·out / (µs per op · 1000).
 * Run with scripts/bench-expert-gemm.sh, which also runs numpy on the same shapes.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class ExpertGemmBench {
    /** rows x in x out: the demo's bins (256 x 64 x 64) and a larger expert (512 x 256 x 512). */
    @Param({"256x64x64", "512x256x512"})
    public String shape;

    int rows, in, out;
    double[] x, w, y, dy, dx, dw;

    @Setup
    public void setup() {
        String[] p = shape.split("x");
        rows = Integer.parseInt(p[0]); in = Integer.parseInt(p[1]); out = Integer.parseInt(p[2]);
        SplittableRandom r = new SplittableRandom(1);
        x = r.doubles(rows * in, -1, 1).toArray();
        w = r.doubles(out * in, -1, 1).toArray();
        dy = r.doubles(rows * out, -1, 1).toArray();
        y = new double[rows * out];
        dx = new double[rows * in];
        dw = new double[out * in];
    }

    @Benchmark
    public double[] forward() {
        Ops.matmul(x, rows, w, 0, out, in, y);
        return y;
    }

    @Benchmark
    public double[] backwardInput() {
        Ops.matmulBackInput(dy, rows, w, 0, out, in, dx);
        return dx;
    }

    @Benchmark
    public double[] backwardWeight() {
        Ops.matmulBackWeight(dy, x, rows, out, in, dw, 0);
        return dw;
    }
}
