package dev.moe4j.model;

import dev.moe4j.kernel.Parallel;

/**
 * A loop over {@code [0, n)} spread over the kernel pool with {@link Parallel#forRange}'s splitting rule, as an
 * object that is reused: a lambda capturing the loop's state would be a new object on every call, and the
 * attention loops run once per layer per token. Subclasses keep each call's inputs in fields; keep one
 * instance per calling thread.
 */
abstract class ParallelLoop implements Parallel.Chunks {
    private int items, grain;

    /** The loop body for item i; called from any thread of the pool. */
    abstract void item(int i);

    /** Runs {@link #item} for every i in [0, n), inline when the work is too small to split (as forRange). */
    final void forRange(int n, long costPerItem) {
        int threads = Parallel.threads();
        if (threads == 1 || n < 2 || (long) n * costPerItem < 32_768) {
            for (int i = 0; i < n; i++) item(i);
            return;
        }
        int chunks = Math.min(n, threads * 4);
        items = n;
        grain = (n + chunks - 1) / chunks;
        Parallel.run((n + grain - 1) / grain, this);
    }

    @Override
    public final void run(int chunk) {
        for (int i = chunk * grain, end = Math.min(items, i + grain); i < end; i++) item(i);
    }
}
