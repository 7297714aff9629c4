package dev.moe4j.generate;

/**
 * How the next token is drawn. Temperature 0 is greedy. Filters apply in llama.cpp's order: repeat
 * penalty, top-k, top-p, min-p, temperature.
 *
 * @param topK          keep the k most likely tokens (0 = off)
 * @param topP          keep the smallest set whose probability reaches p (1 = off)
 * @param minP          drop tokens below minP × the best token's probability (0 = off)
 * @param repeatPenalty divide positive (multiply negative) logits of already-seen tokens by this (1 = off)
 * @param repeatWindow  how many recent tokens the repeat penalty looks at
 */
public record SamplerSettings(float temperature, int topK, float topP, float minP, float repeatPenalty, int repeatWindow,
                              long seed) {
    public static SamplerSettings greedy() {
        return new SamplerSettings(0f, 0, 1f, 0f, 1f, 64, 0);
    }

    public SamplerSettings {
        if (temperature < 0 || Float.isNaN(temperature)) throw new IllegalArgumentException("temperature must be >= 0, got " + temperature);
        if (topK < 0) throw new IllegalArgumentException("top-k must be >= 0, got " + topK);
        if (!(topP > 0 && topP <= 1)) throw new IllegalArgumentException("top-p must be in (0, 1], got " + topP);
        if (!(minP >= 0 && minP < 1)) throw new IllegalArgumentException("min-p must be in [0, 1), got " + minP);
        if (!(repeatPenalty > 0)) throw new IllegalArgumentException("repeat penalty must be > 0, got " + repeatPenalty);
    }
}
