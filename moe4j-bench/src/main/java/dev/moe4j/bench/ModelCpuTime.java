package dev.moe4j.bench;

import dev.moe4j.kernel.Parallel;
import dev.moe4j.model.KvCache;
import dev.moe4j.model.Model;
import dev.moe4j.model.MoeTransformer;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * {@code moe4j bench}'s prompt and generation runs on one thread, timed in that thread's CPU time rather than
 * wall time: with one thread every kernel runs on the caller, and on a machine shared with other jobs a
 * thread waiting for a core is not charged, so two builds can be compared while the machine is busy. It uses
 * only the model API ({@link Model}, {@link MoeTransformer}), so the same class runs against another build's
 * jar put first on the class path:
 *
 * <pre>mvn -q -Pbench -pl moe4j-bench -am compile
 * java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -XX:+UseSerialGC \
 *     -cp OTHER.jar:moe4j-bench/target/classes dev.moe4j.bench.ModelCpuTime MODEL.gguf [PROMPT] [GEN]</pre>
 *
 * Prints CPU milliseconds per prompt token (a prompt of PROMPT tokens, default 64, in one batch) and per
 * generated token (GEN tokens one at a time, default 16), each the minimum and median of 15 runs, after
 * 20 s of CPU time of warm-up (as {@code bench} warms up: until C2 has compiled every kernel and layer).
 */
public final class ModelCpuTime {
    private static final int RUNS = 15;
    private static final long WARMUP_NANOS = 20_000_000_000L;

    private ModelCpuTime() {}

    public static void main(String[] args) {
        if (args.length < 1 || args.length > 3) {
            System.err.println("usage: ModelCpuTime MODEL [PROMPT_TOKENS] [GENERATED_TOKENS]");
            System.exit(2);
        }
        int prompt = args.length > 1 ? Integer.parseInt(args[1]) : 64, gen = args.length > 2 ? Integer.parseInt(args[2]) : 16;
        Parallel.setThreads(1);
        ThreadMXBean cpu = ManagementFactory.getThreadMXBean();
        try (Model m = Model.load(Path.of(args[0])).warmUp()) {
            MoeTransformer tf = m.transformer();
            int vocab = m.config().vocabSize();
            int[] ids = new SplittableRandom(7).ints(prompt, 0, vocab).toArray();
            long warmEnd = cpu.getCurrentThreadCpuTime() + WARMUP_NANOS;
            for (int i = 0; i < 10_000 && cpu.getCurrentThreadCpuTime() < warmEnd; i++) {
                runPrompt(tf, ids, cpu);
                runGen(tf, gen, vocab, cpu);
            }
            double[] pp = new double[RUNS], tg = new double[RUNS];
            for (int r = 0; r < RUNS; r++) pp[r] = runPrompt(tf, ids, cpu) / 1e6 / prompt;
            for (int r = 0; r < RUNS; r++) tg[r] = runGen(tf, gen, vocab, cpu) / 1e6 / gen;
            Arrays.sort(pp);
            Arrays.sort(tg);
            System.out.printf("%s prompt ms/token min %.3f median %.3f; generation ms/token min %.3f median %.3f%n",
                    Path.of(args[0]).getFileName(), pp[0], pp[RUNS / 2], tg[0], tg[RUNS / 2]);
        }
    }

    /** CPU nanoseconds to process the prompt in one batch from an empty cache. */
    private static long runPrompt(MoeTransformer tf, int[] ids, ThreadMXBean cpu) {
        KvCache cache = tf.newCache(ids.length);
        long t0 = cpu.getCurrentThreadCpuTime();
        tf.forward(ids, cache, false);
        return cpu.getCurrentThreadCpuTime() - t0;
    }

    /** CPU nanoseconds to generate n tokens one at a time (greedy) from an empty cache. */
    private static long runGen(MoeTransformer tf, int n, int vocab, ThreadMXBean cpu) {
        KvCache cache = tf.newCache(n);
        int[] one = {1};
        float[] logits = new float[vocab];
        long t0 = cpu.getCurrentThreadCpuTime();
        for (int i = 0; i < n; i++) {
            tf.forward(one, cache, false, logits);
            int best = 0;
            for (int v = 1; v < vocab; v++) if (logits[v] > logits[best]) best = v;
            one[0] = best;
        }
        return cpu.getCurrentThreadCpuTime() - t0;
    }
}
