package dev.moe4j.model;

import dev.moe4j.generate.Generator;
import dev.moe4j.generate.SamplerSettings;
import dev.moe4j.kernel.Parallel;
import dev.moe4j.tensor.DType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Steady-state decoding allocates nothing: the bytes the calling thread and the kernel pool's threads allocate
 * (per-thread counters of the JVM) over a run of decode steps, once every buffer has reached its size.
 *
 * <p>Each run decodes positions {@value #PREFIX}..{@value #CONTEXT}-1 again after truncating the cache, so
 * the context-sized buffers (attention scores) grew in the warm-up runs already. A run is measured several
 * times and the least is kept: a JIT compilation or deoptimisation may allocate once in a while, a per-token
 * allocation shows in every run.
 */
class GarbageFreeDecodeTest {
    static final int CONTEXT = 64, PREFIX = 32, STEPS = CONTEXT - PREFIX;
    /** Bytes per token allowed, after subtracting what reading the counters allocates: anything here is real garbage. */
    static final double BOUND = 16;
    static final int WARM_RUNS = 40, MEASURED_RUNS = 8;
    static final long PATIENCE_NANOS = 20_000_000_000L;

    @TempDir Path tmp;
    static int threadsBefore;

    @BeforeAll
    static void usePoolWorkers() {
        // At least three threads, so pool workers run chunks of the kernels and attention loops even on two cores.
        threadsBefore = Parallel.threads();
        Parallel.setThreads(Math.max(3, threadsBefore));
    }

    @AfterAll
    static void restoreThreads() {
        Parallel.setThreads(threadsBefore);
    }

    @Test
    void olmoeSoftmaxTopKInQ8_0() {
        // hidden 256, 16 heads of 32: attention goes parallel from position 32, q/k/v and experts are pool jobs
        SyntheticModel sm = new SyntheticModel(Architecture.OLMOE, 512, 256, 2, 16, 4, 32, 8, 2, 128, 0, 10000.0, 1);
        sm.writeGguf(tmp.resolve("olmoe.gguf"), false, DType.Q8_0);
        assertDecodeIsGarbageFree(tmp.resolve("olmoe.gguf"));
    }

    @Test
    void olmoeInQ4_0RepackedForIntegerDots() {
        // Q4_0 matrices are repacked at load and decode quantises activations to 8 bits: none of it may allocate.
        SyntheticModel sm = new SyntheticModel(Architecture.OLMOE, 512, 256, 2, 16, 4, 32, 8, 2, 128, 0, 10000.0, 3);
        sm.writeGguf(tmp.resolve("olmoe-q4.gguf"), false, DType.Q4_0);
        assertDecodeIsGarbageFree(tmp.resolve("olmoe-q4.gguf"));
    }

    @Test
    void olmoeInQ4_KAndQ6_KRepackedForIntegerDots() {
        // Expert width 256: every matrix is whole Q4_K / Q6_K super-blocks, repacked at load, decoded on 8-bit activations.
        SyntheticModel sm = new SyntheticModel(Architecture.OLMOE, 512, 256, 2, 16, 4, 32, 8, 2, 256, 0, 10000.0, 4);
        sm.writeGguf(tmp.resolve("olmoe-q4k.gguf"), false, DType.Q4_K);
        assertDecodeIsGarbageFree(tmp.resolve("olmoe-q4k.gguf"));
        sm.writeGguf(tmp.resolve("olmoe-q6k.gguf"), false, DType.Q6_K);
        assertDecodeIsGarbageFree(tmp.resolve("olmoe-q6k.gguf"));
    }

    @Test
    void qwen2MoeWithSharedExpertAndBiases() {
        SyntheticModel sm = new SyntheticModel(Architecture.QWEN2_MOE, 512, 256, 2, 16, 4, 32, 8, 2, 128, 256, 1000000.0, 2);
        sm.writeGguf(tmp.resolve("qwen2.gguf"), false, DType.F32);
        assertDecodeIsGarbageFree(tmp.resolve("qwen2.gguf"));
    }

    @Test
    void deepSeekLatentAttentionAndGroupLimitedSigmoid() throws Exception {
        assertDecodeIsGarbageFree(deepSeek());
    }

    @Test
    void gptOssSinksWindowAndClampedExperts() throws Exception {
        assertDecodeIsGarbageFree(gptOss());
    }

    @Test
    void batchedDecodeStepForTheServer() {
        SyntheticModel sm = new SyntheticModel(Architecture.MIXTRAL, 512, 256, 2, 16, 4, 32, 8, 2, 128, 0, 10000.0, 3);
        sm.writeGguf(tmp.resolve("mixtral.gguf"), false, DType.F32);
        try (Model m = Model.load(tmp.resolve("mixtral.gguf"))) {
            MoeTransformer t = m.transformer();
            int b = 3, vocab = t.config().vocabSize();
            KvCache[] caches = new KvCache[b];
            int[] ids = new int[b];
            for (int s = 0; s < b; s++) {
                caches[s] = t.newCache(CONTEXT);
                t.forward(prefix(PREFIX + s, vocab), caches[s], false);   // different positions
            }
            BatchDecoder decoder = new BatchDecoder(t);
            float[] logits = new float[b * vocab];
            int[] routed = new int[1];
            dev.moe4j.moe.PlanListener count = (layer, plan) -> routed[0] += plan.load(0);
            int steps = STEPS - b;
            double perToken = leastBytesPerRun(steps * b, () -> {
                for (int s = 0; s < b; s++) caches[s].truncate(PREFIX + s);
                for (int i = 0; i < steps; i++) {
                    decoder.decode(ids, caches, count, logits);
                    for (int s = 0; s < b; s++) ids[s] = dev.moe4j.generate.Sampler.argmax(logits, s * vocab, vocab);
                }
            }) / (steps * b);
            report("batched decode (3 sequences)", perToken);
            assertTrue(perToken < BOUND, "a batched decode step allocates " + perToken + " bytes per token");
        }
    }

    @Test
    void generatorWithSamplingFiltersAndRepeatPenalty() {
        SyntheticModel sm = new SyntheticModel(Architecture.QWEN3_MOE, 512, 256, 2, 16, 4, 32, 8, 2, 128, 0, 10000.0, 4);
        sm.writeGguf(tmp.resolve("qwen3.gguf"), false, DType.F32);
        try (Model m = Model.load(tmp.resolve("qwen3.gguf"))) {
            Generator g = new Generator(m.transformer());
            SamplerSettings sampling = new SamplerSettings(0.8f, 40, 0.95f, 0.05f, 1.1f, 64, 5);
            int[] prompt = prefix(8, m.config().vocabSize());
            long[] threads = kernelThreads();
            // Counters read at each token; the first tokens (prefill buffers, first decode steps) are not counted.
            int skip = 8;
            long[] at = new long[CONTEXT];
            int[] n = new int[1];
            Generator.TokenListener record = id -> {
                at[n[0]++] = allocatedBytes(threads);
                return true;
            };
            double least = Double.MAX_VALUE;
            for (int run = 0; run < WARM_RUNS + MEASURED_RUNS; run++) {
                n[0] = 0;
                g.generate(prompt, CONTEXT, sampling, Set.of(-1), record);
                // one reading of the counters per token
                double perToken = (at[n[0] - 1] - at[skip]) / (double) (n[0] - 1 - skip) - readingCost(threads);
                if (run >= WARM_RUNS) least = Math.min(least, perToken);
            }
            report("generator, sampling", least);
            assertTrue(least < BOUND, "generating (sampling at temperature 0.8 with top-k, top-p, min-p and a repeat penalty)"
                    + " allocates " + least + " bytes per token");
        }
    }

    // ---------------------------------------------------------------- measuring

    private static void assertDecodeIsGarbageFree(Path model) {
        // Warmed up as every command does: a path run once per token (the embedding row) would otherwise still be
        // interpreted, boxing its vectors, long after the kernels are compiled.
        try (Model m = Model.load(model).warmUp()) {
            MoeTransformer t = m.transformer();
            int vocab = t.config().vocabSize();
            KvCache cache = t.newCache(CONTEXT);
            t.forward(prefix(PREFIX, vocab), cache, false);
            float[] logits = new float[vocab];
            int[] one = {1};
            double perToken = leastBytesPerRun(STEPS, () -> {
                cache.truncate(PREFIX);
                for (int i = 0; i < STEPS; i++) {
                    t.forward(one, cache, false, logits);
                    one[0] = dev.moe4j.generate.Sampler.argmax(logits);
                }
            }) / STEPS;
            report(model.getFileName().toString(), perToken);
            assertTrue(perToken < BOUND, model.getFileName() + ": a decode step allocates " + perToken + " bytes per token");
        }
    }

    private static void report(String what, double bytesPerToken) {
        System.out.printf(java.util.Locale.ROOT, "garbage-free decode: %s allocates %.1f bytes per token%n", what, bytesPerToken);
    }

    /**
     * The fewest bytes one run allocated on this thread and the pool's, over the measured runs after the warm-up
     * runs. While every run still allocates, measuring goes on for up to {@value #PATIENCE_NANOS} ns: on two busy
     * cores C2 can take seconds to get to a kernel that was deoptimised, and until then it runs interpreted,
     * boxing its vectors. A path that allocates for good still fails.
     */
    private static double leastBytesPerRun(int tokensPerRun, Runnable run) {
        long[] threads = kernelThreads();
        long least = Long.MAX_VALUE, deadline = System.nanoTime() + PATIENCE_NANOS;
        for (int r = 0; r < WARM_RUNS + MEASURED_RUNS || (least >= BOUND * tokensPerRun && System.nanoTime() < deadline); r++) {
            long before = allocatedBytes(threads);
            run.run();
            long bytes = allocatedBytes(threads) - before - readingCost(threads);
            if (r >= WARM_RUNS) least = Math.min(least, bytes);
        }
        return least;
    }

    /** Ids of this thread and the kernel pool's workers (the threads a decode step runs on). */
    private static long[] kernelThreads() {
        List<Long> ids = new ArrayList<>(List.of(Thread.currentThread().threadId()));
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.isAlive() && t.getName().startsWith("moe4j-kernel-")) ids.add(t.threadId());
        }
        assertTrue(ids.size() >= Parallel.threads(), "found " + (ids.size() - 1) + " pool workers for " + Parallel.threads() + " threads");
        return ids.stream().mapToLong(Long::longValue).toArray();
    }

    /**
     * What one reading of the counters allocates itself (the JDK's management code does, for other threads' counters),
     * as the least of a few back-to-back readings.
     */
    private static long readingCost(long[] threads) {
        long least = Long.MAX_VALUE;
        for (int i = 0; i < 5; i++) {
            long a = allocatedBytes(threads);
            least = Math.min(least, allocatedBytes(threads) - a);
        }
        return least;
    }

    private static long allocatedBytes(long[] threads) {
        var mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        assumeTrue(mx.isThreadAllocatedMemorySupported() && mx.isThreadAllocatedMemoryEnabled(), "this JVM does not count allocated bytes");
        long sum = 0;
        for (long id : threads) sum += mx.getThreadAllocatedBytes(id);
        return sum;
    }

    private static int[] prefix(int n, int vocab) {
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) ids[i] = (i * 37 + 5) % vocab;
        return ids;
    }

    // ---------------------------------------------------------------- models the synthetic writer does not cover

    /** DeepSeek-V3: a dense first layer, latent attention with a q low-rank path, 4 expert groups of which 2 are kept. */
    private Path deepSeek() throws Exception {
        var s = new HfCheckpoints.Ds(512, 256, 3, 16, 64, 64, 16, 16, 16, 8, 2, 4, 2, 64, 256, 1, 1, 2.5, 10000.0);
        Map<String, float[]> w = new LinkedHashMap<>();
        Map<String, long[]> shapes = new LinkedHashMap<>();
        return HfCheckpoints.write(tmp.resolve("deepseek"), HfCheckpoints.deepSeek(s, new SplittableRandom(5), w, shapes, CONTEXT), w, shapes);
    }

    /** GPT-OSS: attention sinks, a sliding-window layer, biased and clamped experts, top-k-then-softmax routing. */
    private Path gptOss() throws Exception {
        var s = new HfCheckpoints.Oss(512, 256, 2, 16, 4, 32, 8, 2, 128, 16, 150000.0);
        Map<String, float[]> w = new LinkedHashMap<>();
        Map<String, long[]> shapes = new LinkedHashMap<>();
        return HfCheckpoints.write(tmp.resolve("gptoss"), HfCheckpoints.gptOss(s, new SplittableRandom(6), w, shapes, CONTEXT), w, shapes);
    }
}
