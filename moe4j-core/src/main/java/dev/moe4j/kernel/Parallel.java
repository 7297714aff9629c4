package dev.moe4j.kernel;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.IntConsumer;

/**
 * A fixed pool of worker threads for kernels. A job is split into chunks that threads claim one at a
 * time, so each thread streams through its own rows of a weight matrix. Decoding dispatches hundreds of
 * small jobs per token, so workers spin briefly before parking (as llama.cpp's threads do) and the
 * caller works on the job too; dispatching allocates nothing.
 */
public final class Parallel {
    /** A job over chunk indices {@code [0, chunks)}; called once per chunk, from any thread of the pool. */
    @FunctionalInterface
    public interface Chunks {
        void run(int chunk);
    }

    private static volatile Pool pool = new Pool(Runtime.getRuntime().availableProcessors());

    private Parallel() {}

    /**
     * The most threads {@link #setThreads} accepts: 4 × the processors this JVM may use. Kernels split their work
     * per thread, so threads beyond the processors only spin and switch; a typo such as 100000 would otherwise
     * start that many threads and stall the machine.
     */
    public static int maxThreads() {
        return 4 * Runtime.getRuntime().availableProcessors();
    }

    /**
     * Sets the number of threads kernels use (the CLI's {@code --threads}), the caller included.
     *
     * @throws IllegalArgumentException if {@code threads} is below 1 or above {@link #maxThreads()}
     */
    public static synchronized void setThreads(int threads) {
        if (threads < 1) throw new IllegalArgumentException("threads: " + threads + " is less than 1");
        if (threads > maxThreads()) {
            throw new IllegalArgumentException("threads: " + threads + " is more than " + maxThreads() + " (4 per processor, "
                    + Runtime.getRuntime().availableProcessors() + " available)");
        }
        if (threads == pool.threads) return;
        Pool old = pool;
        pool = new Pool(threads);
        old.shutdown();
    }

    public static int threads() {
        return pool.threads;
    }

    /** Runs {@code job} for every chunk in [0, chunks), in parallel when there is more than one. */
    public static void run(int chunks, Chunks job) {
        pool.run(chunks, job);
    }

    /**
     * Runs {@code body} for every i in [0, n). Runs inline when the work is too small to be worth
     * splitting ({@code costPerItem} is a rough count of multiply-adds per item).
     */
    public static void forRange(int n, long costPerItem, IntConsumer body) {
        int threads = pool.threads;
        if (threads == 1 || n < 2 || (long) n * costPerItem < 32_768) {
            for (int i = 0; i < n; i++) body.accept(i);
            return;
        }
        int chunks = Math.min(n, threads * 4), grain = (n + chunks - 1) / chunks;
        pool.run((n + grain - 1) / grain, c -> {
            for (int i = c * grain, end = Math.min(n, i + grain); i < end; i++) body.accept(i);
        });
    }

    /**
     * Chunks are claimed by CAS on one counter that packs (generation, chunk count, next chunk), so a worker
     * that wakes late, or is descheduled mid-claim, can never take a chunk of a later job; the caller waits
     * for chunks to complete, not for every worker to show up (on a busy machine a worker may not).
     */
    private static final class Pool {
        private static final long SPIN_NANOS = 100_000;
        private static final int BITS = 20;
        private static final long MASK = (1L << BITS) - 1;
        final int threads;
        private final Worker[] workers;
        private final ReentrantLock lock = new ReentrantLock();
        private final AtomicLong claim = new AtomicLong();
        private final AtomicInteger completed = new AtomicInteger();
        private volatile Chunks job;
        private volatile int generation;
        private volatile boolean stopped;
        private volatile Throwable failure;

        Pool(int threads) {
            this.threads = threads;
            workers = new Worker[threads - 1];
            for (int i = 0; i < workers.length; i++) {
                workers[i] = new Worker(this);
                workers[i].setName("moe4j-kernel-" + (i + 1));
                workers[i].setDaemon(true);
                workers[i].start();
            }
        }

        void run(int n, Chunks j) {
            if (n <= 0) return;
            // Single chunk, one thread, or a nested/concurrent call: run on the caller.
            if (n == 1 || n > MASK || workers.length == 0 || Thread.currentThread() instanceof Worker || lock.isHeldByCurrentThread()) {
                for (int c = 0; c < n; c++) j.run(c);
                return;
            }
            lock.lock();
            try {
                failure = null;
                job = j;
                completed.set(0);
                int gen = generation + 1;
                claim.set(((long) (gen & 0xFFFFFF) << (2 * BITS)) | ((long) n << BITS));
                generation = gen;                 // wakes spinning workers
                for (Worker w : workers) if (w.parked) LockSupport.unpark(w);
                work();
                while (completed.get() < n) Thread.onSpinWait();
                job = null;
                Throwable f = failure;
                if (f instanceof RuntimeException e) throw e;
                if (f instanceof Error e) throw e;
            } finally {
                lock.unlock();
            }
        }

        /** Claims and runs chunks of the current job until none are left. */
        void work() {
            while (true) {
                long v = claim.get();
                int n = (int) ((v >>> BITS) & MASK), c = (int) (v & MASK);
                if (c >= n) return;
                Chunks j = job; // read after the claim word: it is this job's (or a later one's, and then the CAS fails)
                if (!claim.compareAndSet(v, v + 1)) continue;
                try {
                    if (failure == null) j.run(c);
                } catch (Throwable t) {
                    failure = t;
                } finally {
                    completed.incrementAndGet();
                }
            }
        }

        void shutdown() {
            stopped = true;
            for (Worker w : workers) LockSupport.unpark(w);
        }
    }

    private static final class Worker extends Thread {
        private final Pool pool;
        volatile boolean parked;

        Worker(Pool pool) {
            this.pool = pool;
        }

        @Override
        public void run() {
            int seen = 0; // the pool's generation when it created this worker, before any job
            while (!pool.stopped) {
                long spinStart = System.nanoTime();
                while (pool.generation == seen && !pool.stopped) {
                    if (System.nanoTime() - spinStart < Pool.SPIN_NANOS) {
                        Thread.onSpinWait();
                    } else {
                        parked = true;
                        if (pool.generation == seen && !pool.stopped) LockSupport.park(this);
                        parked = false;
                    }
                }
                if (pool.stopped) return;
                seen = pool.generation;
                pool.work();
            }
        }
    }
}
