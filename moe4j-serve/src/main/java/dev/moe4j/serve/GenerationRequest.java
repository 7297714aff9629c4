package dev.moe4j.serve;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.List;

/**
 * The fields of a chat or text completion request that moe4j uses, read and checked from the JSON body.
 * Exactly one of {@code prompt} and {@code chat} (messages, tools, template fields: {@link ChatFields}) is set.
 */
record GenerationRequest(String model, String prompt, ChatFields chat, Integer maxTokens,
                         float temperature, float topP, Long seed, List<String> stop, boolean stream, boolean includeUsage,
                         SamplingFields sampling) {

    static GenerationRequest chat(JsonNode body) {
        RequestFields.checkChat(body);
        ChatFields chat = ChatFields.parse(body);
        String maxField = body.hasNonNull("max_completion_tokens") ? "max_completion_tokens" : "max_tokens";
        return common(body, null, chat, maxField);
    }

    static GenerationRequest completion(JsonNode body) {
        RequestFields.checkCompletion(body);
        JsonNode p = body.get("prompt");
        if (p == null || p.isNull()) throw ApiException.badRequest("prompt", "missing required field 'prompt'");
        String prompt;
        if (p.isTextual()) prompt = p.asText();
        else if (p.isArray() && p.size() == 1 && p.get(0).isTextual()) prompt = p.get(0).asText();
        else throw ApiException.badRequest("prompt", "'prompt' must be a string (or an array of one string)");
        return common(body, prompt, null, "max_tokens");
    }

    private static GenerationRequest common(JsonNode body, String prompt, ChatFields chat, String maxField) {
        JsonNode m = body.get("model");
        if (m == null || m.isNull()) throw ApiException.badRequest("model", "missing required field 'model'");
        if (!m.isTextual()) throw ApiException.badRequest("model", "'model' must be a string");
        Integer max = optInt(body, maxField);
        if (max != null && max < 1) throw ApiException.badRequest(maxField, "'" + maxField + "' must be at least 1, got " + max);
        float temperature = optFloat(body, "temperature", 1f);
        if (!(temperature >= 0 && temperature <= 2)) throw ApiException.badRequest("temperature", "'temperature' must be in [0, 2]");
        float topP = optFloat(body, "top_p", 1f);
        if (!(topP > 0 && topP <= 1)) throw ApiException.badRequest("top_p", "'top_p' must be in (0, 1]");
        JsonNode seed = body.get("seed");
        if (seed != null && !seed.isNull() && !(seed.isIntegralNumber() && seed.canConvertToLong())) {
            throw ApiException.badRequest("seed", "'seed' must be an integer in [-2^63, 2^63)");
        }
        boolean stream = optBool(body, "stream");
        JsonNode so = body.get("stream_options");
        if (so != null && !so.isNull() && !so.isObject()) throw ApiException.badRequest("stream_options", "'stream_options' must be an object");
        boolean usage = so != null && so.isObject() && optBool(so, "include_usage", "stream_options.include_usage");
        return new GenerationRequest(m.asText(), prompt, chat, max, temperature, topP,
                seed == null || seed.isNull() ? null : seed.asLong(), stop(body.get("stop")), stream, usage,
                SamplingFields.read(body, chat != null));
    }

    private static List<String> stop(JsonNode s) {
        if (s == null || s.isNull()) return List.of();
        if (s.isTextual()) return List.of(s.asText());
        if (s.isArray() && s.size() <= 4) {
            List<String> out = new ArrayList<>();
            for (JsonNode x : s) {
                if (!x.isTextual()) throw ApiException.badRequest("stop", "'stop' entries must be strings");
                out.add(x.asText());
            }
            return out;
        }
        throw ApiException.badRequest("stop", "'stop' must be a string or an array of at most 4 strings");
    }

    /** An optional integer field; 400 naming it when it is not an int. Shared with {@link SamplingFields}. */
    static Integer optInt(JsonNode body, String field) {
        JsonNode v = body.get(field);
        if (v == null || v.isNull()) return null;
        if (!v.isIntegralNumber()) throw ApiException.badRequest(field, "'" + field + "' must be an integer, got " + v);
        if (!v.canConvertToInt()) throw ApiException.badRequest(field, "'" + field + "' is out of range: " + v);
        return v.asInt();
    }

    /** An optional number field ({@code dflt} when absent or null); 400 naming it when it is not a number. */
    static float optFloat(JsonNode body, String field, float dflt) {
        JsonNode v = body.get(field);
        if (v == null || v.isNull()) return dflt;
        if (!v.isNumber()) throw ApiException.badRequest(field, "'" + field + "' must be a number");
        return v.floatValue();
    }

    private static boolean optBool(JsonNode body, String field) {
        return optBool(body, field, field);
    }

    private static boolean optBool(JsonNode parent, String field, String path) {
        JsonNode v = parent.get(field);
        if (v == null || v.isNull()) return false;
        if (!v.isBoolean()) throw ApiException.badRequest(path, "'" + path + "' must be true or false");
        return v.asBoolean();
    }
}
