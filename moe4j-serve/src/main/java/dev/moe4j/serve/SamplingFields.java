package dev.moe4j.serve;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;

/**
 * The sampling and output-shape fields of a chat or text completion request, read and checked: {@code n},
 * {@code presence_penalty}, {@code frequency_penalty}, {@code logit_bias}, {@code logprobs}/{@code top_logprobs}
 * (chat: a boolean and 0–20; completions: the legacy integer 0–5), {@code response_format}, and the extensions
 * llama.cpp and vLLM also take: {@code top_k}, {@code min_p}, {@code repetition_penalty}. Every value out of range
 * is a 400 naming the field.
 *
 * @param topLogprobs how many most likely tokens to list per token; -1 when log-probabilities are not asked for
 */
record SamplingFields(int n, float presencePenalty, float frequencyPenalty, Map<Integer, Float> logitBias, int topLogprobs,
                      ResponseFormat responseFormat, int topK, float minP, float repetitionPenalty) {
    /** The most choices one request may ask for (OpenAI's limit). */
    static final int MAX_N = 128;

    static SamplingFields read(JsonNode body, boolean chat) {
        Integer n = GenerationRequest.optInt(body, "n");
        if (n != null && (n < 1 || n > MAX_N)) throw ApiException.badRequest("n", "'n' must be in [1, " + MAX_N + "], got " + n);
        float presence = GenerationRequest.optFloat(body, "presence_penalty", 0f), frequency = GenerationRequest.optFloat(body, "frequency_penalty", 0f);
        if (!(presence >= -2 && presence <= 2)) throw ApiException.badRequest("presence_penalty", "'presence_penalty' must be in [-2, 2]");
        if (!(frequency >= -2 && frequency <= 2)) throw ApiException.badRequest("frequency_penalty", "'frequency_penalty' must be in [-2, 2]");
        int top = chat ? chatLogprobs(body) : completionLogprobs(body);
        int topK = GenerationRequest.optInt(body, "top_k") == null ? 0 : GenerationRequest.optInt(body, "top_k");
        if (topK < 0) throw ApiException.badRequest("top_k", "'top_k' must be >= 0 (0 = off)");
        float minP = GenerationRequest.optFloat(body, "min_p", 0f);
        if (!(minP >= 0 && minP < 1)) throw ApiException.badRequest("min_p", "'min_p' must be in [0, 1)");
        float repetition = GenerationRequest.optFloat(body, "repetition_penalty", 1f);
        if (!(repetition > 0 && repetition <= 10)) throw ApiException.badRequest("repetition_penalty", "'repetition_penalty' must be in (0, 10] (1 = off)");
        return new SamplingFields(n == null ? 1 : n, presence, frequency, logitBias(body.get("logit_bias")), top,
                ResponseFormat.read(body.get("response_format")), topK, minP, repetition);
    }

    /** Chat: {@code logprobs} true/false and {@code top_logprobs} 0–20, which needs logprobs true (as OpenAI says). */
    private static int chatLogprobs(JsonNode body) {
        JsonNode lp = body.get("logprobs");
        if (lp != null && !lp.isNull() && !lp.isBoolean()) throw ApiException.badRequest("logprobs", "'logprobs' must be true or false");
        boolean on = lp != null && lp.asBoolean();
        Integer top = GenerationRequest.optInt(body, "top_logprobs");
        if (top != null && (top < 0 || top > 20)) throw ApiException.badRequest("top_logprobs", "'top_logprobs' must be in [0, 20]");
        if (top != null && !on) throw ApiException.badRequest("top_logprobs", "'top_logprobs' needs 'logprobs': true");
        return on ? (top == null ? 0 : top) : -1;
    }

    /** Completions: {@code logprobs} is the number of most likely tokens to list, 0–5 (0: the chosen token's only). */
    private static int completionLogprobs(JsonNode body) {
        Integer lp = GenerationRequest.optInt(body, "logprobs");
        if (lp != null && (lp < 0 || lp > 5)) throw ApiException.badRequest("logprobs", "'logprobs' must be in [0, 5]");
        return lp == null ? -1 : lp;
    }

    /** {@code {"token id": bias}} with biases in [-100, 100]; ids are checked against the vocabulary later. */
    private static Map<Integer, Float> logitBias(JsonNode v) {
        if (v == null || v.isNull()) return Map.of();
        if (!v.isObject()) throw ApiException.badRequest("logit_bias", "'logit_bias' must be an object of token id → bias");
        Map<Integer, Float> out = new HashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = v.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            int id;
            try {
                id = Integer.parseInt(e.getKey());
            } catch (NumberFormatException bad) {
                throw ApiException.badRequest("logit_bias", "'logit_bias' key '" + e.getKey() + "' is not a token id");
            }
            if (id < 0) throw ApiException.badRequest("logit_bias", "'logit_bias' key '" + e.getKey() + "' is not a token id");
            if (!e.getValue().isNumber() || !(e.getValue().doubleValue() >= -100 && e.getValue().doubleValue() <= 100)) {
                throw ApiException.badRequest("logit_bias", "'logit_bias' for token " + id + " must be a number in [-100, 100]");
            }
            out.put(id, e.getValue().floatValue());
        }
        return out;
    }

    /** Fails with 400 naming {@code logit_bias} when a biased id is past the vocabulary. */
    void checkVocabulary(int vocab) {
        for (int id : logitBias.keySet()) {
            if (id >= vocab) throw ApiException.badRequest("logit_bias", "'logit_bias' token " + id + " is out of range for a vocabulary of " + vocab);
        }
    }
}
