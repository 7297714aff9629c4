package dev.moe4j.generate;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The sampler, which works in reused arrays and selects only the top-k it needs, draws exactly the tokens of the
 * plain implementation it replaced (kept below): a full stable sort of boxed ids and fresh arrays per call.
 */
class SamplerTest {

    @Test
    void drawsTheSameTokensAsThePlainImplementation() {
        SplittableRandom r = new SplittableRandom(3);
        SamplerSettings[] settings = {
                new SamplerSettings(0.8f, 40, 0.95f, 0.05f, 1.1f, 64, 11),
                new SamplerSettings(1.0f, 0, 0.9f, 0f, 1f, 64, 12),        // the server's: no top-k, full sort
                new SamplerSettings(0.5f, 0, 1f, 0f, 1.3f, 8, 13),
                new SamplerSettings(1.5f, 5, 1f, 0.2f, 1f, 64, 14),
                new SamplerSettings(0.7f, 1000, 0.5f, 0f, 0.9f, 16, 15),   // top-k larger than some vocabularies
                new SamplerSettings(0f, 0, 1f, 0f, 1.2f, 64, 16)};         // greedy with a repeat penalty
        for (SamplerSettings s : settings) {
            for (int vocab : new int[] {1, 7, 300, 5000}) {
                Sampler fast = new Sampler(s);
                PlainSampler plain = new PlainSampler(s);
                List<Integer> history = new ArrayList<>();
                for (int step = 0; step < 40; step++) {
                    float[] logits = logits(r, vocab, step);
                    int expected = plain.sample(logits, history);
                    assertEquals(expected, fast.sample(logits, history), s + " vocab " + vocab + " step " + step);
                    history.add(expected);
                }
            }
        }
    }

    @Test
    void samplesOneRowOfABatch() {
        SamplerSettings s = new SamplerSettings(0.9f, 20, 0.9f, 0.02f, 1.1f, 64, 21);
        Sampler fast = new Sampler(s);
        PlainSampler plain = new PlainSampler(s);
        SplittableRandom r = new SplittableRandom(4);
        int vocab = 600;
        int[] history = new int[50];
        for (int step = 0; step < 50; step++) {
            float[] batch = logits(r, 3 * vocab, step);
            float[] row = Arrays.copyOfRange(batch, vocab, 2 * vocab);
            List<Integer> h = new ArrayList<>();
            for (int i = 0; i < step; i++) h.add(history[i]);
            int expected = plain.sample(row, h);
            assertEquals(expected, fast.sample(batch, vocab, vocab, history, step), "step " + step);
            history[step] = expected;
        }
    }

    /** Random logits with ties, signed zeros and infinities now and then, and a steady pattern on some steps. */
    private static float[] logits(SplittableRandom r, int n, int step) {
        float[] l = new float[n];
        for (int i = 0; i < n; i++) l[i] = (float) (r.nextGaussian() * 3);
        if (step % 5 == 1) for (int i = 0; i < n; i++) l[i] = Math.round(l[i]);          // many ties
        if (step % 5 == 2) for (int i = 0; i < n; i++) l[i] = i % 3 - 1;                   // ascending runs of ties
        if (step % 5 == 3 && n > 3) { l[0] = -0f; l[1] = 0f; l[2] = Float.NEGATIVE_INFINITY; }
        if (step % 5 == 4) for (int i = 0; i < n; i++) l[i] = i * 0.01f;                   // sorted the wrong way round
        return l;
    }

    /** The sampler before it became garbage-free, verbatim but for its name. */
    static final class PlainSampler {
        private final SamplerSettings s;
        private final SplittableRandom random;

        PlainSampler(SamplerSettings settings) {
            this.s = settings;
            this.random = new SplittableRandom(settings.seed());
        }

        int sample(float[] logits, List<Integer> history) {
            if (s.temperature() == 0f && s.repeatPenalty() == 1f) return Sampler.argmax(logits);
            float[] l = logits.clone();
            if (s.repeatPenalty() != 1f) {
                boolean[] seen = new boolean[l.length];
                for (int i = Math.max(0, history.size() - s.repeatWindow()); i < history.size(); i++) {
                    int id = history.get(i);
                    if (id >= 0 && id < l.length && !seen[id]) {
                        seen[id] = true;
                        l[id] = l[id] > 0 ? l[id] / s.repeatPenalty() : l[id] * s.repeatPenalty();
                    }
                }
            }
            if (s.temperature() == 0f) return Sampler.argmax(l);

            Integer[] order = new Integer[l.length];
            for (int i = 0; i < l.length; i++) order[i] = i;
            Arrays.sort(order, (a, b) -> Float.compare(l[b], l[a]));
            int keep = s.topK() > 0 ? Math.min(s.topK(), l.length) : l.length;

            double[] p = softmax(l, order, keep, 1f);
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
            double[] q = softmax(l, order, keep, s.temperature());
            double r = random.nextDouble(), cum = 0;
            for (int i = 0; i < keep; i++) {
                cum += q[i];
                if (r < cum) return order[i];
            }
            return order[keep - 1];
        }

        private static double[] softmax(float[] l, Integer[] order, int n, float temperature) {
            double[] p = new double[n];
            double max = l[order[0]] / temperature, sum = 0;
            for (int i = 0; i < n; i++) {
                p[i] = Math.exp(l[order[i]] / temperature - max);
                sum += p[i];
            }
            for (int i = 0; i < n; i++) p[i] /= sum;
            return p;
        }
    }
}
