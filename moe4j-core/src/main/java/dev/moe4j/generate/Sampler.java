package dev.moe4j.generate;

import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/** Picks the next token from logits according to {@link SamplerSettings}; deterministic for a seed. */
public final class Sampler {
    private final SamplerSettings s;
    private final SplittableRandom random;

    public Sampler(SamplerSettings settings) {
        this.s = settings;
        this.random = new SplittableRandom(settings.seed());
    }

    /** @param history tokens so far (prompt and generated), for the repeat penalty */
    public int sample(float[] logits, List<Integer> history) {
        if (s.temperature() == 0f && s.repeatPenalty() == 1f) return argmax(logits); // greedy: no copy needed
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
        if (s.temperature() == 0f) return argmax(l);

        Integer[] order = new Integer[l.length];
        for (int i = 0; i < l.length; i++) order[i] = i;
        Arrays.sort(order, (a, b) -> Float.compare(l[b], l[a]));
        int keep = s.topK() > 0 ? Math.min(s.topK(), l.length) : l.length;

        // Probabilities at temperature 1 decide top-p and min-p, as llama.cpp does before temperature.
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

    public static int argmax(float[] l) {
        int best = 0;
        for (int i = 1; i < l.length; i++) if (l[i] > l[best]) best = i;
        return best;
    }
}
