package dev.moe4j.serve;

import dev.moe4j.format.gguf.GgufFile;
import dev.moe4j.format.gguf.GgufWriter;
import dev.moe4j.generate.Sampler;
import dev.moe4j.model.BatchDecoder;
import dev.moe4j.model.KvCache;
import dev.moe4j.model.Model;
import dev.moe4j.model.MoeTransformer;
import dev.moe4j.tensor.DType;
import dev.moe4j.tensor.Tensor;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Decode throughput of B sequences one at a time (each its own forward per token) versus together (one
 * {@link BatchDecoder} step per token for all B). Not a test: run by hand, e.g.
 * {@code java -cp ... dev.moe4j.serve.BatchingBenchmark ../shared/refs/mixtral-tiny/model-f32.gguf 512 1408}
 * (the two numbers, when given, scale the model up to that hidden and expert size with random weights, so that
 * reading expert weights, not bookkeeping, dominates as in real checkpoints).
 */
public final class BatchingBenchmark {
    public static void main(String[] args) throws Exception {
        Path path = Path.of(args[0]);
        if (args.length >= 3) path = scaleUp(path, Integer.parseInt(args[1]), Integer.parseInt(args[2]));
        int tokens = 48, reps = 5;
        try (Model m = Model.load(path)) {
            MoeTransformer t = m.transformer();
            System.out.printf("model %s: hidden %d, %d layers, %d experts (top-%d), expert ffn %d; %d kernel threads%n", path,
                    t.config().hidden(), t.config().layers(), t.config().experts(), t.config().topK(), t.config().expertFfn(),
                    dev.moe4j.kernel.Parallel.threads());
            for (int b : new int[] {16, 8, 4, 1}) oneAtATime(t, b, tokens);  // JIT warm-up
            for (int b : new int[] {16, 8, 4, 1}) batched(t, b, tokens);
            for (int b : new int[] {1, 4, 8, 16}) {
                double alone = 0, together = 0;  // best of reps, alternating, to see through a busy machine
                for (int i = 0; i < reps; i++) {
                    alone = Math.max(alone, oneAtATime(t, b, tokens));
                    together = Math.max(together, batched(t, b, tokens));
                }
                System.out.printf("B=%2d: one at a time %8.1f tok/s, batched %8.1f tok/s, gain x%.2f%n", b, alone, together, together / alone);
            }
        }
    }

    private static KvCache prefill(MoeTransformer t, int seq, int tokens, int[] last) {
        KvCache c = t.newCache(8 + tokens + 1);
        int[] prompt = {1 + seq % 7, 10 + seq, 20 + seq, 30};
        last[seq] = Sampler.argmax(t.forward(prompt, c, false));
        return c;
    }

    static double oneAtATime(MoeTransformer t, int b, int tokens) {
        int[] last = new int[b];
        KvCache[] caches = new KvCache[b];
        for (int s = 0; s < b; s++) caches[s] = prefill(t, s, tokens, last);
        long t0 = System.nanoTime();
        for (int s = 0; s < b; s++) {
            for (int i = 0; i < tokens; i++) last[s] = Sampler.argmax(t.forward(new int[] {last[s]}, caches[s], false));
        }
        return (double) b * tokens / ((System.nanoTime() - t0) / 1e9);
    }

    static double batched(MoeTransformer t, int b, int tokens) {
        int[] last = new int[b];
        KvCache[] caches = new KvCache[b];
        for (int s = 0; s < b; s++) caches[s] = prefill(t, s, tokens, last);
        BatchDecoder d = new BatchDecoder(t);
        int vocab = t.config().vocabSize();
        long t0 = System.nanoTime();
        for (int i = 0; i < tokens; i++) {
            float[] logits = d.decode(last, caches);
            for (int s = 0; s < b; s++) last[s] = Sampler.argmax(java.util.Arrays.copyOfRange(logits, s * vocab, (s + 1) * vocab));
        }
        return (double) b * tokens / ((System.nanoTime() - t0) / 1e9);
    }

    /** The same architecture and vocabulary with hidden size {@code h} and expert size {@code f}, random weights. */
    static Path scaleUp(Path tinyGguf, int h, int f) throws Exception {
        Path out = Files.createTempFile("moe4j-bench-", ".gguf");
        out.toFile().deleteOnExit();
        try (GgufFile src = GgufFile.open(tinyGguf)) {
            String arch = src.getString("general.architecture");
            int oldH = (int) src.getLong(arch + ".embedding_length"), oldF = (int) src.getLong(arch + ".feed_forward_length");
            int heads = (int) src.getLong(arch + ".attention.head_count"), kvHeads = (int) src.getLong(arch + ".attention.head_count_kv");
            int oldKv = oldH / heads * kvHeads;
            Map<Long, Long> dims = Map.of((long) oldH, (long) h, (long) oldKv, (long) h / heads * kvHeads, (long) oldF, (long) f);
            GgufWriter w = new GgufWriter().copyMetadata(src);
            w.putUInt32(arch + ".embedding_length", h).putUInt32(arch + ".feed_forward_length", f)
                    .putUInt32(arch + ".rope.dimension_count", h / heads);
            SplittableRandom r = new SplittableRandom(7);
            for (Tensor tensor : src.tensors()) {
                long[] shape = tensor.shape().clone();
                long n = 1;
                for (int i = 0; i < shape.length; i++) n *= shape[i] = dims.getOrDefault(shape[i], shape[i]);
                float[] data = new float[Math.toIntExact(n)];
                boolean norm = tensor.name().contains("norm");
                float scale = (float) (1 / Math.sqrt(shape[shape.length - 1]));
                for (int i = 0; i < data.length; i++) data[i] = norm ? 1f : (float) r.nextGaussian() * scale;
                w.addTensor(tensor.name(), DType.F32, shape, data);
            }
            w.write(out);
        }
        return out;
    }
}
