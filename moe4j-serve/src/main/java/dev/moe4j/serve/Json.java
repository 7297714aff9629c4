package dev.moe4j.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/** The OpenAI response shapes, built as Jackson trees. */
final class Json {
    static final ObjectMapper MAPPER = new ObjectMapper();

    private Json() {}

    static ObjectNode object() { return MAPPER.createObjectNode(); }

    static JsonNode parse(String body) {
        if (body == null || body.isBlank()) throw ApiException.badRequest(null, "the request body is empty: expected a JSON object");
        JsonNode n;
        try {
            n = MAPPER.readTree(body);
        } catch (Exception e) {
            throw ApiException.badRequest(null, "the request body is not valid JSON: " + firstLine(e.getMessage()));
        }
        if (n == null || !n.isObject()) throw ApiException.badRequest(null, "the request body must be a JSON object");
        return n;
    }

    static ObjectNode error(ApiException e) {
        ObjectNode err = object();
        err.put("message", e.getMessage());
        err.put("type", e.type);
        err.put("param", e.param);
        err.put("code", e.code);
        ObjectNode root = object();
        root.set("error", err);
        return root;
    }

    static ObjectNode usage(int prompt, int completion) {
        ObjectNode u = object();
        u.put("prompt_tokens", prompt);
        u.put("completion_tokens", completion);
        u.put("total_tokens", prompt + completion);
        return u;
    }

    static String write(JsonNode n) {
        try {
            return MAPPER.writeValueAsString(n);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static String firstLine(String s) {
        if (s == null) return "";
        int i = s.indexOf('\n');
        return i < 0 ? s : s.substring(0, i);
    }
}
