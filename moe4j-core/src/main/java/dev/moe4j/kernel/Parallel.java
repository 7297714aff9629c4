package dev.moe4j.kernel;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.RecursiveAction;
import java.util.function.IntConsumer;

/**
 * A fixed pool of worker threads for kernels. Work is split into contiguous chunks so that each
 * thread streams through its own part of a weight matrix.
 */
public final class Parallel {
    private static volatile ForkJoinPool pool = new ForkJoinPool(Runtime.getRuntime().availableProcessors());

    private Parallel() {}

    /** Sets the number of threads kernels use (the CLI's {@code --threads}). */
    public static synchronized void setThreads(int threads) {
        if (threads < 1) throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        if (threads == pool.getParallelism()) return;
        ForkJoinPool old = pool;
        pool = new ForkJoinPool(threads);
        old.shutdown();
    }

    public static int threads() {
        return pool.getParallelism();
    }

    /**
     * Runs {@code body} for every i in [0, n). Runs inline when the work is too small to be worth
     * splitting ({@code costPerItem} is a rough count of multiply-adds per item).
     */
    public static void forRange(int n, long costPerItem, IntConsumer body) {
        int threads = pool.getParallelism();
        if (threads == 1 || n < 2 || (long) n * costPerItem < 32_768) {
            for (int i = 0; i < n; i++) body.accept(i);
            return;
        }
        int chunks = Math.min(n, threads * 4);
        pool.invoke(new Chunk(body, 0, n, (n + chunks - 1) / chunks));
    }

    private static final class Chunk extends RecursiveAction {
        private final IntConsumer body;
        private final int from, to, grain;

        Chunk(IntConsumer body, int from, int to, int grain) {
            this.body = body;
            this.from = from;
            this.to = to;
            this.grain = grain;
        }

        @Override
        protected void compute() {
            if (to - from <= grain) {
                for (int i = from; i < to; i++) body.accept(i);
                return;
            }
            int mid = (from + to) >>> 1;
            invokeAll(new Chunk(body, from, mid, grain), new Chunk(body, mid, to, grain));
        }
    }
}
