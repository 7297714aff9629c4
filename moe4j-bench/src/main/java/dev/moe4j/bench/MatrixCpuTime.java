package dev.moe4j.bench;

import dev.moe4j.kernel.Matrix;
import dev.moe4j.kernel.PackedQ4;
import dev.moe4j.kernel.PackedQ4K;
import dev.moe4j.kernel.PackedQ6K;
import dev.moe4j.kernel.PackedQ8;
import dev.moe4j.kernel.Parallel;
import dev.moe4j.kernel.Quantize;
import dev.moe4j.tensor.DType;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;
import java.util.Random;

/**
 * One quantised type's matrix products in the file's layout and repacked as a model load repacks them
 * (Q4_0, Q8_0, Q4_K, Q6_K), timed in this thread's CPU time (steadier than wall time on a shared machine), one
 * thread: {@code matvec} (decode: one token) and {@code matmul} of 16 tokens (prefill), through
 * {@link Matrix}, i.e. the kernels inference runs.
 *
 * <pre>mvn -q -Pbench -pl moe4j-bench -am compile
 * java --add-modules jdk.incubator.vector -cp moe4j-core/target/classes:moe4j-bench/target/classes \
 *     dev.moe4j.bench.MatrixCpuTime Q4_K [ROWS] [COLS]</pre>
 *
 * Prints CPU nanoseconds per 1000 weights per token (min and median of 21 batches after 3 s of warm-up per
 * kernel); the default 1024 × 2048 matrix (0.6–1.1 MiB quantised) stays in L2/L3, so this is the kernels'
 * compute speed, not the memory's.
 */
public final class MatrixCpuTime {
    private static final int BATCHES = 21, TOKENS = 16;
    private static final long WARMUP_NANOS = 3_000_000_000L, BATCH_NANOS = 100_000_000L;

    private MatrixCpuTime() {}

    public static void main(String[] args) {
        if (args.length < 1 || args.length > 3) {
            System.err.println("usage: MatrixCpuTime DTYPE [ROWS] [COLS]   (Q4_0, Q8_0, Q4_K or Q6_K)");
            System.exit(2);
        }
        DType t = DType.valueOf(args[0]);
        int rows = args.length > 1 ? Integer.parseInt(args[1]) : 1024, cols = args.length > 2 ? Integer.parseInt(args[2]) : 2048;
        DType packedType = switch (t) {
            case Q4_0 -> DType.Q4_0_R16;
            case Q8_0 -> DType.Q8_0_R16;
            case Q4_K -> DType.Q4_K_R16;
            case Q6_K -> DType.Q6_K_R16;
            default -> throw new IllegalArgumentException(t + " is not repacked at load");
        };
        Parallel.setThreads(1);
        Random r = new Random(1);
        float[] w = new float[rows * cols];
        for (int i = 0; i < w.length; i++) w[i] = (float) r.nextGaussian() * 0.02f;
        float[] x = new float[TOKENS * cols], out = new float[TOKENS * rows];
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
        Arena arena = Arena.ofShared();
        MemorySegment file = arena.allocate(t.bytesFor(w.length), 64);
        Quantize.encode(t, w, 0, w.length, file, 0);
        MemorySegment packed = arena.allocate(packedType.bytesFor(w.length), 64);
        for (int p = 0; p < rows / PackedQ4.PANEL; p++) {
            switch (packedType) {
                case Q4_0_R16 -> PackedQ4.packPanel(file, packed, cols, p);
                case Q8_0_R16 -> PackedQ8.packPanel(file, packed, cols, p);
                case Q4_K_R16 -> PackedQ4K.packPanel(file, packed, cols, p);
                default -> PackedQ6K.packPanel(file, packed, cols, p);
            }
        }
        for (Matrix m : new Matrix[] {new Matrix("file", t, file, 0, rows, cols), new Matrix("packed", packedType, packed, 0, rows, cols)}) {
            double perK = 1000.0 / ((double) rows * cols);
            report(m, "matvec", time(() -> m.matvec(x, 0, out, 0)), perK);
            report(m, "matmul16", time(() -> m.matmul(x, TOKENS, out)), perK / TOKENS);
        }
        if (!Float.isFinite(out[0])) throw new IllegalStateException("non-finite result");
    }

    /** CPU nanoseconds per call of each timed batch, sorted. */
    private static double[] time(Runnable call) {
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        long warmEnd = threads.getCurrentThreadCpuTime() + WARMUP_NANOS;
        for (int i = 0; i < 10_000_000 && threads.getCurrentThreadCpuTime() < warmEnd; i++) call.run();
        double[] perCall = new double[BATCHES];
        for (int b = 0; b < BATCHES; b++) {
            long start = threads.getCurrentThreadCpuTime(), end = start + BATCH_NANOS;
            int calls = 0;
            for (; calls < 10_000_000 && (calls == 0 || threads.getCurrentThreadCpuTime() < end); calls++) call.run();
            perCall[b] = (threads.getCurrentThreadCpuTime() - start) / (double) calls;
        }
        Arrays.sort(perCall);
        return perCall;
    }

    private static void report(Matrix m, String kernel, double[] sorted, double scale) {
        System.out.printf("%s %s ns per 1000 weights and token: min %.1f median %.1f%n",
                m.dtype(), kernel, sorted[0] * scale, sorted[sorted.length / 2] * scale);
    }
}
