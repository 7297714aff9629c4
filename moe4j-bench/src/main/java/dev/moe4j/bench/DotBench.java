package dev.moe4j.bench;

import dev.moe4j.kernel.Dequant;
import dev.moe4j.kernel.Quantize;
import dev.moe4j.tensor.DType;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * Single-thread row kernels on a memory-mapped weight file, as a model's weights are: {@code dot} is decode's
 * row·vector product ({@link Dequant#dot} over every row), {@code dequantize} is prefill's row-to-float-tile
 * conversion ({@link Dequant#dequantize} over every row). Time per matrix; weights/s = rows·cols / time and
 * GFLOP/s of the dot = 2·rows·cols / time.
 *
 * <pre>mvn -o -q -Pbench -pl moe4j-bench -am package -DskipTests
 * java --add-modules jdk.incubator.vector -jar moe4j-bench/target/benchmarks.jar DotBench</pre>
 *
 * On a shared machine compare the best of many short iterations rather than the average, e.g.
 * {@code -wi 8 -w 300ms -i 15 -r 200ms -rf json} and the minimum of each benchmark's raw data.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class DotBench {
    @Param({"Q8_0", "Q4_0", "Q4_K", "Q6_K"})
    public String dtype;

    @Param({"1024"})
    public int rows;

    @Param({"2048"})
    public int cols;

    private DType t;
    private Arena arena;
    private Path file;
    private MemorySegment seg;
    private long rowBytes;
    private float[] x, out, tile;

    @Setup(Level.Trial)
    public void setup() throws IOException {
        t = DType.valueOf(dtype);
        Random r = new Random(1);
        float[] w = new float[rows * cols];
        for (int i = 0; i < w.length; i++) w[i] = (float) r.nextGaussian() * 0.02f;
        rowBytes = t.bytesFor(cols);
        byte[] q = Quantize.encode(t, w);
        file = Files.createTempFile("moe4j-dotbench", ".bin");
        Files.write(file, q);
        arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            seg = ch.map(FileChannel.MapMode.READ_ONLY, 0, q.length, arena);
        }
        x = new float[cols];
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
        out = new float[rows];
        tile = new float[cols];
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
        arena.close();
        Files.deleteIfExists(file);
    }

    @Benchmark
    public float dot() {
        for (int i = 0; i < rows; i++) out[i] = Dequant.dot(t, seg, i * rowBytes, x, 0, cols);
        return out[rows - 1];
    }

    @Benchmark
    public float dequantize() {
        float s = 0;
        for (int i = 0; i < rows; i++) {
            Dequant.dequantize(t, seg, i * rowBytes, tile, 0, cols);
            s += tile[i & 63];
        }
        return s;
    }
}
