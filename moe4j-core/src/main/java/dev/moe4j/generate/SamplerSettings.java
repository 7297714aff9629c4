package dev.moe4j.generate;

import java.util.Map;

/**
 * How the next token is drawn. Temperature 0 is greedy. Steps, in order: logit bias, repeat penalty (llama.cpp's),
 * presence and frequency penalties (OpenAI's), then — on the logits so adjusted — top-k, top-p, min-p and
 * temperature (llama.cpp's order). Log-probabilities ({@link TokenLogprobs}) are those of the adjusted logits at
 * temperature 1, before the filters.
 *
 * @param topK            keep the k most likely tokens (0 = off)
 * @param topP            keep the smallest set whose probability reaches p (1 = off)
 * @param minP            drop tokens below minP × the best token's probability (0 = off)
 * @param repeatPenalty   divide positive (multiply negative) logits of already-seen tokens by this (1 = off)
 * @param repeatWindow    how many recent tokens the repeat penalty looks at
 * @param presencePenalty subtracted once from the logit of every token generated so far (OpenAI's
 *                        {@code presence_penalty}, in [-2, 2]; 0 = off)
 * @param frequencyPenalty subtracted from a token's logit once per time it was generated so far (OpenAI's
 *                        {@code frequency_penalty}, in [-2, 2]; 0 = off). OpenAI's formula:
 *                        {@code logit[j] -= count[j] * frequency + (count[j] > 0 ? presence : 0)}, counting
 *                        generated tokens only (not the prompt)
 * @param logitBias       token id → added to its logit (OpenAI's {@code logit_bias}, in [-100, 100]); empty = off
 */
public record SamplerSettings(float temperature, int topK, float topP, float minP, float repeatPenalty, int repeatWindow,
                              long seed, float presencePenalty, float frequencyPenalty, Map<Integer, Float> logitBias) {
    public static SamplerSettings greedy() {
        return new SamplerSettings(0f, 0, 1f, 0f, 1f, 64, 0);
    }

    /** Settings without presence or frequency penalty and without logit bias. */
    public SamplerSettings(float temperature, int topK, float topP, float minP, float repeatPenalty, int repeatWindow, long seed) {
        this(temperature, topK, topP, minP, repeatPenalty, repeatWindow, seed, 0f, 0f, Map.of());
    }

    public SamplerSettings {
        if (temperature < 0 || Float.isNaN(temperature)) throw new IllegalArgumentException("temperature must be >= 0, got " + temperature);
        if (topK < 0) throw new IllegalArgumentException("top-k must be >= 0, got " + topK);
        if (!(topP > 0 && topP <= 1)) throw new IllegalArgumentException("top-p must be in (0, 1], got " + topP);
        if (!(minP >= 0 && minP < 1)) throw new IllegalArgumentException("min-p must be in [0, 1), got " + minP);
        if (!(repeatPenalty > 0)) throw new IllegalArgumentException("repeat penalty must be > 0, got " + repeatPenalty);
        if (!(presencePenalty >= -2 && presencePenalty <= 2)) throw new IllegalArgumentException("presence penalty must be in [-2, 2], got " + presencePenalty);
        if (!(frequencyPenalty >= -2 && frequencyPenalty <= 2)) throw new IllegalArgumentException("frequency penalty must be in [-2, 2], got " + frequencyPenalty);
        logitBias = Map.copyOf(logitBias);
        for (Map.Entry<Integer, Float> e : logitBias.entrySet()) {
            if (e.getKey() < 0) throw new IllegalArgumentException("logit bias for token " + e.getKey() + ": token ids are >= 0");
            if (!(e.getValue() >= -100 && e.getValue() <= 100)) {
                throw new IllegalArgumentException("logit bias for token " + e.getKey() + " must be in [-100, 100], got " + e.getValue());
            }
        }
    }

    /** These settings with OpenAI's presence and frequency penalties. */
    public SamplerSettings withPenalties(float presence, float frequency) {
        return new SamplerSettings(temperature, topK, topP, minP, repeatPenalty, repeatWindow, seed, presence, frequency, logitBias);
    }

    /** These settings with a logit bias (token id → bias). */
    public SamplerSettings withLogitBias(Map<Integer, Float> bias) {
        return new SamplerSettings(temperature, topK, topP, minP, repeatPenalty, repeatWindow, seed, presencePenalty, frequencyPenalty, bias);
    }

    /** These settings with another seed (the n choices of one request each get their own). */
    public SamplerSettings withSeed(long newSeed) {
        return new SamplerSettings(temperature, topK, topP, minP, repeatPenalty, repeatWindow, newSeed, presencePenalty, frequencyPenalty, logitBias);
    }

    /** Whether the logits are used as they come: no bias and no penalty of any kind. */
    boolean plainLogits() {
        return repeatPenalty == 1f && presencePenalty == 0f && frequencyPenalty == 0f && logitBias.isEmpty();
    }
}
