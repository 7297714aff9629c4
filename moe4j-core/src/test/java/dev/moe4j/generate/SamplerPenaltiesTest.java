package dev.moe4j.generate;

import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** OpenAI's presence/frequency penalties and logit bias, and the log-probabilities the sampler reports. */
class SamplerPenaltiesTest {
    private static double[] logSoftmax(double[] l) {
        double max = Double.NEGATIVE_INFINITY, sum = 0;
        for (double v : l) max = Math.max(max, v);
        for (double v : l) sum += Math.exp(v - max);
        double[] out = new double[l.length];
        for (int i = 0; i < l.length; i++) out[i] = l[i] - max - Math.log(sum);
        return out;
    }

    @Test
    void penaltiesFollowOpenAisFormulaAndLogprobsAreTheLogSoftmaxOfTheLogitsUsed() {
        float presence = 0.4f, frequency = 0.25f;
        int vocab = 6;
        SplittableRandom r = new SplittableRandom(9);
        for (float temperature : new float[]{0f, 0.8f}) {
            Sampler sampler = new Sampler(new SamplerSettings(temperature, 0, 1f, 0f, 1f, 64, 17).withPenalties(presence, frequency)
                    .withLogitBias(Map.of(5, -3f)));
            TokenLogprobs lp = new TokenLogprobs(vocab);
            int[] counts = new int[vocab];
            for (int step = 0; step < 30; step++) {
                float[] logits = new float[vocab];
                for (int i = 0; i < vocab; i++) logits[i] = (float) r.nextGaussian();
                int token = sampler.sample(logits, 0, vocab, new int[0], 0, lp);
                double[] used = new double[vocab];
                for (int j = 0; j < vocab; j++) {
                    used[j] = logits[j] + (j == 5 ? -3f : 0f) - counts[j] * frequency - (counts[j] > 0 ? presence : 0);
                }
                double[] expected = logSoftmax(used);
                assertEquals(token, lp.token());
                assertEquals(expected[token], lp.logprob(), 1e-5, "step " + step);
                if (temperature == 0f) {
                    int best = 0;
                    for (int j = 1; j < vocab; j++) if (used[j] > used[best]) best = j;
                    assertEquals(best, token, "greedy picks the best penalised logit, step " + step);
                }
                assertEquals(vocab, lp.count());
                for (int i = 0; i < lp.count(); i++) {
                    assertEquals(expected[lp.topId(i)], lp.topLogprob(i), 1e-5);
                    if (i > 0) assertTrue(lp.topLogprob(i) <= lp.topLogprob(i - 1), "top logprobs sorted");
                }
                counts[token]++;
            }
        }
    }

    @Test
    void aRepeatedTokenLosesToAFreshOneExactlyWhenThePenaltySaysSo() {
        // Token 0 leads token 1 by 0.5: after one use, a presence penalty of 0.6 makes 1 win, 0.4 does not.
        float[] logits = {1.5f, 1.0f, -5f};
        for (float presence : new float[]{0.4f, 0.6f}) {
            Sampler s = new Sampler(SamplerSettings.greedy().withPenalties(presence, 0f));
            assertEquals(0, s.sample(logits, 0, 3, new int[0], 0));
            assertEquals(presence > 0.5f ? 1 : 0, s.sample(logits, 0, 3, new int[0], 0), "presence " + presence);
        }
        // Frequency grows with every use: 0.2 per use overtakes a 0.5 lead on the third use.
        Sampler s = new Sampler(SamplerSettings.greedy().withPenalties(0f, 0.2f));
        int[] picks = new int[4];
        for (int i = 0; i < 4; i++) picks[i] = s.sample(logits, 0, 3, new int[0], 0);
        assertEquals("[0, 0, 0, 1]", java.util.Arrays.toString(picks));
        // A negative penalty favours repeats.
        Sampler again = new Sampler(SamplerSettings.greedy().withPenalties(-1f, 0f));
        float[] close = {1.0f, 1.2f};
        assertEquals(1, again.sample(close, 0, 2, new int[0], 0));
        close[0] = 1.9f;
        assertEquals(1, again.sample(close, 0, 2, new int[0], 0), "1.2 + 1 beats 1.9");
    }

    @Test
    void logitBiasOfMinus100BansAndPlus100Forces() {
        float[] logits = {3f, 0f, 1f};
        assertEquals(2, new Sampler(SamplerSettings.greedy().withLogitBias(Map.of(0, -100f))).sample(logits, 0, 3, new int[0], 0));
        Sampler forced = new Sampler(new SamplerSettings(1f, 0, 1f, 0f, 1f, 64, 3).withLogitBias(Map.of(1, 100f)));
        for (int i = 0; i < 50; i++) assertEquals(1, forced.sample(logits, 0, 3, new int[0], 0));
        assertThrows(IllegalArgumentException.class, () -> SamplerSettings.greedy().withLogitBias(Map.of(1, 101f)));
        assertThrows(IllegalArgumentException.class, () -> SamplerSettings.greedy().withPenalties(2.5f, 0f));
    }

    @Test
    void maskedTokensGetNoLogprobEntry() {
        float[] logits = {0f, Float.NEGATIVE_INFINITY, 0f};
        TokenLogprobs lp = new TokenLogprobs(3);
        int t = new Sampler(SamplerSettings.greedy()).sample(logits, 0, 3, new int[0], 0, lp);
        assertEquals(0, t);
        assertEquals(Math.log(0.5), lp.logprob(), 1e-9);
        assertEquals(2, lp.count());
    }
}
