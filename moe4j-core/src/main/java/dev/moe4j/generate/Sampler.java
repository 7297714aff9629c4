package dev.moe4j.generate;

import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Picks the next token from logits according to {@link SamplerSettings}; deterministic for a seed. Sampling
 * allocates nothing once this thread's working arrays have reached the vocabulary's size.
 */
public final class Sampler {
    private final SamplerSettings s;
    private final SplittableRandom random;

    private final int[] biasIds;
    private final float[] biasValues;
    // Generated-token counts for the presence and frequency penalties (null when both are off).
    private int[] counts;
    private int[] generated;   // the distinct ids counted, in [0, distinct)
    private int distinct;

    public Sampler(SamplerSettings settings) {
        this.s = settings;
        this.random = new SplittableRandom(settings.seed());
        this.biasIds = settings.logitBias().keySet().stream().mapToInt(Integer::intValue).sorted().toArray();
        this.biasValues = new float[biasIds.length];
        for (int i = 0; i < biasIds.length; i++) biasValues[i] = settings.logitBias().get(biasIds[i]);
        if (settings.presencePenalty() != 0f || settings.frequencyPenalty() != 0f) {
            counts = new int[1024];
            generated = new int[64];
        }
    }

    /** @param history tokens so far (prompt and generated), for the repeat penalty */
    public int sample(float[] logits, List<Integer> history) {
        if (s.temperature() == 0f && s.plainLogits()) return argmax(logits); // greedy: no copy needed
        int from = Math.max(0, history.size() - s.repeatWindow()), n = Math.max(0, history.size() - from);
        int[] window = WORK.get().history(n);
        for (int i = 0; i < n; i++) window[i] = history.get(from + i);
        return sample(logits, 0, logits.length, window, n);
    }

    /**
     * Samples from {@code logits[offset, offset + vocab)} (one row of a batch's logits).
     *
     * @param history tokens so far (prompt and generated) in {@code history[0, historyLength)}, for the repeat penalty
     */
    public int sample(float[] logits, int offset, int vocab, int[] history, int historyLength) {
        return sample(logits, offset, vocab, history, historyLength, null);
    }

    /**
     * As {@link #sample(float[], int, int, int[], int)}, and fills {@code logprobs} (when not null) with the chosen
     * token's log-probability and the most likely tokens'. Presence and frequency penalties count the tokens this
     * sampler has returned, so use one sampler per generated sequence.
     */
    public int sample(float[] logits, int offset, int vocab, int[] history, int historyLength, TokenLogprobs logprobs) {
        if (s.temperature() == 0f && s.plainLogits() && logprobs == null) return argmax(logits, offset, vocab);
        Work w = WORK.get();
        w.size(vocab);
        float[] l = w.logits;
        System.arraycopy(logits, offset, l, 0, vocab);
        adjust(l, vocab, history, historyLength, w);
        int token = s.temperature() == 0f ? argmax(l, 0, vocab) : draw(l, vocab, w);
        if (logprobs != null) logprobs(l, vocab, token, logprobs, w);
        if (counts != null) count(token);
        return token;
    }

    /** Logit bias, repeat penalty, presence and frequency penalties, in place. */
    private void adjust(float[] l, int vocab, int[] history, int historyLength, Work w) {
        for (int i = 0; i < biasIds.length; i++) if (biasIds[i] < vocab) l[biasIds[i]] += biasValues[i];
        if (s.repeatPenalty() != 1f) {
            int from = Math.max(0, historyLength - s.repeatWindow());
            boolean[] seen = w.seen;
            for (int i = from; i < historyLength; i++) {
                int id = history[i];
                if (id >= 0 && id < vocab && !seen[id]) {
                    seen[id] = true;
                    l[id] = l[id] > 0 ? l[id] / s.repeatPenalty() : l[id] * s.repeatPenalty();
                }
            }
            for (int i = from; i < historyLength; i++) if (history[i] >= 0 && history[i] < vocab) seen[history[i]] = false;
        }
        if (counts != null) {
            for (int i = 0; i < distinct; i++) {
                int id = generated[i];
                if (id < vocab) l[id] -= counts[id] * s.frequencyPenalty() + s.presencePenalty();
            }
        }
    }

    /** Top-k, top-p, min-p and temperature, then one draw. */
    private int draw(float[] l, int vocab, Work w) {
        int keep = s.topK() > 0 ? Math.min(s.topK(), vocab) : vocab;
        long[] order = w.order;
        sortBest(l, vocab, keep, order);

        // Probabilities at temperature 1 decide top-p and min-p, as llama.cpp does before temperature.
        double[] p = w.probs;
        softmax(l, order, keep, 1f, p);
        if (s.topP() < 1f) {
            double cum = 0;
            for (int i = 0; i < keep; i++) {
                cum += p[i];
                if (cum >= s.topP()) { keep = i + 1; break; }
            }
        }
        if (s.minP() > 0f) {
            int n = 1;
            while (n < keep && p[n] >= s.minP() * p[0]) n++;
            keep = n;
        }
        softmax(l, order, keep, s.temperature(), p);
        double r = random.nextDouble(), cum = 0;
        int lastPossible = 0;
        for (int i = 0; i < keep; i++) {
            cum += p[i];
            if (r < cum) return token(order[i]);
            if (p[i] > 0) lastPossible = i;
        }
        // Rounding left r above the total: the least likely token that can be drawn, never one with probability 0
        // (a token a constraint masked to -inf).
        return token(order[lastPossible]);
    }

    /** log softmax of the adjusted logits at temperature 1, for the chosen token and the most likely ones. */
    private static void logprobs(float[] l, int vocab, int token, TokenLogprobs out, Work w) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < vocab; i++) if (l[i] > max) max = l[i];
        double sum = 0;
        for (int i = 0; i < vocab; i++) sum += Math.exp((double) l[i] - max);
        double logZ = max + Math.log(sum);
        out.set(token, l[token] - logZ);
        int top = Math.min(out.capacity(), vocab);
        if (top == 0) return;
        sortBest(l, vocab, top, w.order);
        for (int i = 0; i < top; i++) {
            int id = token(w.order[i]);
            if (l[id] == Float.NEGATIVE_INFINITY) break;   // masked out: probability 0, not listed
            out.add(id, l[id] - logZ);
        }
    }

    private void count(int token) {
        if (token >= counts.length) counts = Arrays.copyOf(counts, Math.max(token + 1, counts.length * 2));
        if (counts[token]++ == 0) {
            if (distinct == generated.length) generated = Arrays.copyOf(generated, distinct * 2);
            generated[distinct++] = token;
        }
    }

    /**
     * The {@code keep} best tokens, best first, into {@code order[0, keep)} as sort keys ({@link #key}): the order a
     * stable sort by descending logit gives. All of them when {@code keep == vocab}, else a heap of the best keep.
     */
    private static void sortBest(float[] l, int vocab, int keep, long[] order) {
        if (keep == vocab) {
            for (int i = 0; i < vocab; i++) order[i] = key(l[i], i);
            Arrays.sort(order, 0, vocab);
            return;
        }
        // A max-heap of the keep smallest keys: its root is the worst token kept so far.
        int size = 0;
        for (int i = 0; i < vocab; i++) {
            long k = key(l[i], i);
            if (size < keep) {
                int c = size++;
                while (c > 0 && order[(c - 1) / 2] < k) { order[c] = order[(c - 1) / 2]; c = (c - 1) / 2; }
                order[c] = k;
            } else if (k < order[0]) {
                siftDown(order, k, keep);
            }
        }
        for (int end = keep - 1; end > 0; end--) {   // heapsort: the largest key goes last
            long top = order[0];
            siftDown(order, order[end], end);
            order[end] = top;
        }
    }

    /** Puts {@code k} at the root of the max-heap {@code h[0, size)} and sifts it down. */
    private static void siftDown(long[] h, long k, int size) {
        int c = 0;
        while (true) {
            int child = 2 * c + 1;
            if (child >= size) break;
            if (child + 1 < size && h[child + 1] > h[child]) child++;
            if (h[child] <= k) break;
            h[c] = h[child];
            c = child;
        }
        h[c] = k;
    }

    /**
     * A sort key for token {@code id}: ascending keys list logits in descending {@link Float#compare} order, ties
     * by lower id. The float's bits are mapped to an int that orders as {@code Float.compare}, then inverted.
     */
    private static long key(float logit, int id) {
        int bits = Float.floatToIntBits(logit);
        int ascending = bits ^ ((bits >> 31) & 0x7fffffff);
        return ((long) ~ascending << 32) | id;
    }

    private static int token(long key) {
        return (int) key;
    }

    private static void softmax(float[] l, long[] order, int n, float temperature, double[] p) {
        double max = l[token(order[0])] / temperature, sum = 0;
        for (int i = 0; i < n; i++) {
            p[i] = Math.exp(l[token(order[i])] / temperature - max);
            sum += p[i];
        }
        for (int i = 0; i < n; i++) p[i] /= sum;
    }

    public static int argmax(float[] l) {
        return argmax(l, 0, l.length);
    }

    /** The first index of the largest of {@code l[offset, offset + n)}, counted from offset. */
    public static int argmax(float[] l, int offset, int n) {
        int best = 0;
        for (int i = 1; i < n; i++) if (l[offset + i] > l[offset + best]) best = i;
        return best;
    }

    /** Working arrays, per thread rather than per sampler: a server holds a sampler per sequence but samples on one thread. */
    private static final class Work {
        float[] logits = new float[0];
        boolean[] seen = new boolean[0];   // all false between calls
        long[] order = new long[0];
        double[] probs = new double[0];
        int[] history = new int[0];

        void size(int vocab) {
            if (logits.length >= vocab) return;
            logits = new float[vocab];
            seen = new boolean[vocab];
            order = new long[vocab];
            probs = new double[vocab];
        }

        int[] history(int n) {
            if (history.length < n) history = new int[n];
            return history;
        }
    }

    private static final ThreadLocal<Work> WORK = ThreadLocal.withInitial(Work::new);
}
