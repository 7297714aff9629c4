package dev.moe4j.cli;

import dev.moe4j.cli.perf.ReadBandwidth;
import dev.moe4j.cli.perf.Stats;
import dev.moe4j.kernel.Parallel;
import dev.moe4j.model.KvCache;
import dev.moe4j.model.Model;
import dev.moe4j.model.ModelConfig;
import dev.moe4j.model.MoeTransformer;
import dev.moe4j.tensor.Tensor;
import dev.moe4j.util.Units;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;

@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Measure prompt processing (pp) and generation (tg) speed like llama-bench, and the memory bandwidth generation achieves.")
final class BenchCommand implements Callable<Integer> {
    @Mixin ModelOptions opts;
    @Spec CommandSpec spec;

    @Option(names = {"-p", "--prompt"}, defaultValue = "128", paramLabel = "N", description = "Prompt tokens processed in one batch (default 128).")
    int prompt;

    @Option(names = {"-n", "--gen"}, defaultValue = "32", paramLabel = "N", description = "Tokens generated one at a time (default 32).")
    int gen;

    @Option(names = {"-r", "--repetitions"}, defaultValue = "3", paramLabel = "R", description = "Timed runs of each test (default 3).")
    int reps;

    @Option(names = "--json", description = "Print one JSON object instead of a table.")
    boolean json;

    @Option(names = "--bandwidth-mib", defaultValue = "1024", paramLabel = "MIB", description = "Buffer for the read-bandwidth probe (default 1024; 0 skips it).")
    int bandwidthMib;

    @Override
    public Integer call() {
        if (prompt < 1 || gen < 1 || reps < 1) throw new IllegalArgumentException("-p, -n and -r must be at least 1");
        checkBandwidthBuffer();
        PrintWriter out = spec.commandLine().getOut(), err = spec.commandLine().getErr();
        long loadStart = System.nanoTime();
        try (Model m = opts.open()) {
            double loadSeconds = (System.nanoTime() - loadStart) / 1e9;   // mapping, repacking, kernel warm-up
            MoeTransformer tf = m.transformer();
            ModelConfig c = m.config();
            if (Math.max(prompt, gen) > c.contextLength()) throw new IllegalArgumentException("-p/-n exceed the context of " + c.contextLength());
            int[] ids = new SplittableRandom(7).ints(prompt, 0, c.vocabSize()).toArray();
            if (!json) err.printf(Locale.ROOT, "loaded in %.2f s (including repacking and kernel warm-up); warming up...%n", loadSeconds);
            // Warm-up (JIT, page cache): at least two rounds and three seconds, and until every layer has decoded
            // 8192 tokens unless 15 s have passed. One round left small models' last kernels compiling in the first
            // timed runs (±20 % spread); five rounds (a second for olmoe-mini) left its first two timed prompts
            // 25 % slow; and C2 compiles a per-layer method (attention, MoE layer) after ~5000 calls: short of
            // that, olmoe-mini's timed generation dipped to 60 % while it did.
            long start = System.nanoTime();
            for (int round = 0; round < 1000; round++) {
                double elapsed = (System.nanoTime() - start) / 1e9;
                long layerCalls = (long) round * Math.max(gen, 1) * c.layers();
                if (round >= 2 && elapsed >= 3 && (layerCalls >= 8192 || elapsed >= 15)) break;
                runPrompt(tf, ids);
                runGen(tf, gen, c.vocabSize());
            }
            double[] pp = new double[reps], tg = new double[reps];
            for (int r = 0; r < reps; r++) pp[r] = prompt / runPrompt(tf, ids);
            genAllocated = 0;
            for (int r = 0; r < reps; r++) tg[r] = gen / runGen(tf, gen, c.vocabSize());
            // Unmeasured values are null in JSON and said so in the table, never 0.
            Double allocPerToken = allocationCounted()
                    ? Math.max(0, genAllocated - reps * readingCost()) / (double) (reps * gen) : null;
            Stats pps = Stats.of(pp), tgs = Stats.of(tg);
            long active = activeBytes(m), size = fileBytes(m);
            double achieved = active * tgs.median();
            Double machine = bandwidthMib > 0 ? ReadBandwidth.measure((long) bandwidthMib << 20, 3) : null;
            if (json) {
                out.printf(Locale.ROOT, "{\"model\": \"%s\", \"size_bytes\": %d, \"threads\": %d, \"pp\": {\"tokens\": %d, \"tokens_per_s\": %s},"
                                + " \"tg\": {\"tokens\": %d, \"tokens_per_s\": %s}, \"active_bytes_per_token\": %d,"
                                + " \"achieved_bytes_per_s\": %.0f, \"machine_read_bytes_per_s\": %s, \"allocated_bytes_per_token\": %s, \"load_seconds\": %.2f}%n",
                        m.source().toString().replace("\\", "\\\\").replace("\"", "\\\""), size, Parallel.threads(), prompt, pps.json(),
                        gen, tgs.json(), active, achieved, jsonNumber(machine, "%.0f"), jsonNumber(allocPerToken, "%.0f"), loadSeconds);
            } else {
                out.printf(Locale.ROOT, "| model | size | threads | test | t/s |%n|---|---|---|---|---|%n");
                String name = m.source().getFileName().toString();
                out.printf(Locale.ROOT, "| %s | %s | %d | pp%d | %.2f ± %.2f |%n", name, Units.bytes(size), Parallel.threads(), prompt, pps.median(), pps.stddev());
                out.printf(Locale.ROOT, "| %s | %s | %d | tg%d | %.2f ± %.2f |%n", name, Units.bytes(size), Parallel.threads(), gen, tgs.median(), tgs.stddev());
                out.printf(Locale.ROOT, "generation reads %s of weights per token: %s achieved; %s; %s%n",
                        Units.bytes(active), Units.bytesPerSecond(achieved),
                        machine == null ? "machine read bandwidth not measured (--bandwidth-mib 0)"
                                : String.format(Locale.ROOT, "machine reads %s (%.0f %%)", Units.bytesPerSecond(machine), 100 * achieved / machine),
                        allocPerToken == null ? "allocation not measured (this JVM cannot count it)"
                                : String.format(Locale.ROOT, "%.0f bytes allocated per token", allocPerToken));
            }
        }
        return 0;
    }

    /** The probe's buffer must fit in memory next to the model: at most half of the machine's. */
    private void checkBandwidthBuffer() {
        if (bandwidthMib < 0) throw new IllegalArgumentException("--bandwidth-mib: " + bandwidthMib + " is negative (0 skips the probe)");
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            long memory = os.getTotalMemorySize();
            if (memory > 0 && ((long) bandwidthMib << 20) > memory / 2) {
                throw new IllegalArgumentException("--bandwidth-mib: " + bandwidthMib + " MiB is more than half of this machine's "
                        + Units.bytes(memory) + " of memory");
            }
        }
    }

    /** Seconds to process the prompt in one batch from an empty cache. */
    private double runPrompt(MoeTransformer tf, int[] ids) {
        KvCache cache = tf.newCache(ids.length);
        long t0 = System.nanoTime();
        tf.forward(ids, cache, false);
        return (System.nanoTime() - t0) / 1e9;
    }

    /** Bytes allocated inside the timed token loops of {@link #runGen} (not its cache and logits, made once per run). */
    private long genAllocated;

    /** Seconds to generate n tokens one at a time from an empty cache (llama-bench's tg). */
    private double runGen(MoeTransformer tf, int n, int vocab) {
        KvCache cache = tf.newCache(n);
        int[] one = {1};
        float[] logits = new float[vocab];
        long alloc0 = allocated();   // read outside the timed loop: it walks every thread
        long t0 = System.nanoTime();
        for (int i = 0; i < n; i++) {
            tf.forward(one, cache, false, logits);
            one[0] = argmax(logits) % vocab;
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        genAllocated += allocated() - alloc0;
        return seconds;
    }

    private static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
        return best;
    }

    /** Bytes of weights one generated token reads: all dense tensors, k of each layer's experts, one embedding row. */
    static long activeBytes(Model m) {
        ModelConfig c = m.config();
        long total = 0;
        for (String name : m.store().names()) {
            Tensor t = m.store().find(name).orElseThrow();
            long b = t.data().byteSize();
            boolean expert = t.rank() == 3 && t.dim(0) == c.experts() || name.contains("_exps") || name.contains(".experts.");
            boolean embedding = name.equals("token_embd.weight") || name.endsWith("embed_tokens.weight");
            if (expert && t.rank() == 3) total += b / c.experts() * c.topK();
            else if (expert) total += b * c.topK() / c.experts(); // per-expert tensors: k of every E
            else if (embedding && !c.tiedEmbeddings()) total += b / t.dim(0);
            else total += b;
        }
        return total;
    }

    private static long fileBytes(Model m) {
        long total = 0;
        for (String name : m.store().names()) total += m.store().find(name).orElseThrow().data().byteSize();
        return total;
    }

    /**
     * What reading {@link #allocated()} allocates itself, to subtract (the JDK's management code allocates some
     * hundred bytes per call): the least of a few back-to-back readings.
     */
    private static long readingCost() {
        long least = Long.MAX_VALUE;
        for (int i = 0; i < 5; i++) {
            long a = allocated();
            least = Math.min(least, allocated() - a);
        }
        return least;
    }

    /** Whether this JVM counts the bytes its threads allocate (HotSpot does). */
    private static boolean allocationCounted() {
        return ManagementFactory.getThreadMXBean() instanceof com.sun.management.ThreadMXBean t && t.isThreadAllocatedMemorySupported()
                && t.isThreadAllocatedMemoryEnabled();
    }

    /** Bytes allocated by all threads so far, or 0 where the JVM cannot say (see {@link #allocationCounted()}). */
    private static long allocated() {
        return allocationCounted() ? ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean()).getTotalThreadAllocatedBytes() : 0;
    }

    private static String jsonNumber(Double value, String format) {
        return value == null ? "null" : String.format(Locale.ROOT, format, value);
    }
}
