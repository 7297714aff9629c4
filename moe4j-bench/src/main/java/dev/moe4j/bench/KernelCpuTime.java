package dev.moe4j.bench;

import dev.moe4j.kernel.Dequant;
import dev.moe4j.kernel.Quantize;
import dev.moe4j.tensor.DType;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Random;

/**
 * {@link DotBench}'s two kernels for one type, timed in this thread's CPU time rather than wall time: on a
 * machine shared with other jobs a thread waiting for a core is not charged, so two builds can be compared
 * while the machine is busy. It uses only {@link Dequant} and {@link Quantize}, so the same class runs
 * against another build's jar put first on the class path:
 *
 * <pre>mvn -q -Pbench -pl moe4j-bench -am compile
 * java --add-modules jdk.incubator.vector -cp OTHER.jar:moe4j-bench/target/classes dev.moe4j.bench.KernelCpuTime Q4_K</pre>
 *
 * Prints, per kernel, nanoseconds of CPU time per row (1024 rows × 2048 columns in a mapped file): the
 * minimum and the median over 41 timed batches, after a warm-up long enough for C2 to compile the kernel.
 */
public final class KernelCpuTime {
    private static final int ROWS = 1024, COLS = 2048, BATCHES = 41, PASSES_PER_BATCH = 8;
    private static final long WARMUP_NANOS = 4_000_000_000L;

    private KernelCpuTime() {}

    public static void main(String[] args) throws IOException {
        if (args.length != 1) {
            System.err.println("usage: KernelCpuTime DTYPE   (F32, F16, BF16, Q8_0, Q4_0, Q4_K or Q6_K)");
            System.exit(2);
        }
        DType t = DType.valueOf(args[0]);
        Random r = new Random(1);
        float[] w = new float[ROWS * COLS];
        for (int i = 0; i < w.length; i++) w[i] = (float) r.nextGaussian() * 0.02f;
        byte[] q = Quantize.encode(t, w);
        Path file = Files.createTempFile("moe4j-cputime", ".bin");
        try (Arena arena = Arena.ofShared()) {
            Files.write(file, q);
            MemorySegment seg;
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
                seg = ch.map(FileChannel.MapMode.READ_ONLY, 0, q.length, arena);
            }
            float[] x = new float[COLS], out = new float[ROWS], tile = new float[COLS];
            for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
            long rowBytes = t.bytesFor(COLS);
            Runnable dot = () -> {
                for (int i = 0; i < ROWS; i++) out[i] = Dequant.dot(t, seg, i * rowBytes, x, 0, COLS);
            };
            Runnable dequantize = () -> {
                for (int i = 0; i < ROWS; i++) {
                    Dequant.dequantize(t, seg, i * rowBytes, tile, 0, COLS);
                    out[i] = tile[i % COLS];
                }
            };
            report(t, "dot", time(dot));
            report(t, "dequantize", time(dequantize));
            if (!Float.isFinite(out[ROWS - 1])) throw new IllegalStateException("non-finite result");
        } finally {
            Files.deleteIfExists(file);
        }
    }

    /** CPU nanoseconds per row of each timed batch, sorted. */
    private static double[] time(Runnable pass) {
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        long warmEnd = threads.getCurrentThreadCpuTime() + WARMUP_NANOS;
        for (int i = 0; i < 1_000_000 && threads.getCurrentThreadCpuTime() < warmEnd; i++) pass.run();
        double[] perRow = new double[BATCHES];
        for (int b = 0; b < BATCHES; b++) {
            long start = threads.getCurrentThreadCpuTime();
            for (int p = 0; p < PASSES_PER_BATCH; p++) pass.run();
            perRow[b] = (threads.getCurrentThreadCpuTime() - start) / (double) (PASSES_PER_BATCH * ROWS);
        }
        Arrays.sort(perRow);
        return perRow;
    }

    private static void report(DType t, String kernel, double[] sorted) {
        System.out.printf("%s %s ns/row min %.1f median %.1f%n", t, kernel, sorted[0], sorted[sorted.length / 2]);
    }
}
