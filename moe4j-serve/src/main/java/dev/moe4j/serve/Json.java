package dev.moe4j.serve;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;

/** The OpenAI response shapes, built as Jackson trees, and strict parsing of request bodies. */
final class Json {
    /** Duplicate keys and anything after the top-level value are errors, not silently resolved. */
    static final ObjectMapper MAPPER = new ObjectMapper(JsonFactory.builder().enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build())
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private Json() {}

    static ObjectNode object() { return MAPPER.createObjectNode(); }

    /**
     * One JSON object from a UTF-8 body.
     *
     * @throws ApiException 400 naming what is wrong and where (line, column)
     */
    static JsonNode parse(byte[] body) {
        JsonNode n;
        try {
            n = MAPPER.readTree(body);
        } catch (StreamConstraintsException e) {
            throw ApiException.badRequest(null, "the request body is not valid JSON: it nests too deeply or has a number or name too long");
        } catch (MismatchedInputException e) { // FAIL_ON_TRAILING_TOKENS
            throw ApiException.badRequest(null, "the request body is not valid JSON: unexpected data after the object" + at(e.getLocation()));
        } catch (JsonProcessingException e) {
            throw ApiException.badRequest(null, "the request body is not valid JSON: " + withoutParserHints(firstLine(e.getOriginalMessage()))
                    + at(e.getLocation()));
        } catch (IOException e) {
            throw ApiException.badRequest(null, "the request body is not valid JSON");
        }
        if (n == null || n.isMissingNode()) throw ApiException.badRequest(null, "the request body is empty: expected a JSON object");
        if (!n.isObject()) throw ApiException.badRequest(null, "the request body must be a JSON object");
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

    private static String at(JsonLocation where) {
        return where == null || where.getLineNr() < 1 ? "" : " (line " + where.getLineNr() + ", column " + where.getColumnNr() + ")";
    }

    /**
     * Jackson's message without what only makes sense to a Java programmer: its advice to enable a feature
     * ({@code : enable `JsonReadFeature.X` to allow}), feature names in parentheses, the source description and
     * token type names. What is wrong, and the character, stay; the caller appends the location.
     */
    static String withoutParserHints(String message) {
        String m = message;
        int source = m.indexOf("[Source:");
        if (source >= 0) {
            int marker = m.lastIndexOf(" (start marker at", source);
            m = m.substring(0, marker >= 0 ? marker : source);
        }
        m = m.replaceAll("\\s*\\([^()]*\\bFeature\\b[^()]*\\)", "");
        int backtick = m.indexOf('`');
        if (backtick >= 0) {
            int clause = m.lastIndexOf(':', backtick);
            m = m.substring(0, clause >= 0 ? clause : backtick);
        }
        m = m.replace("VALUE_STRING", "a string").replace("FIELD_NAME", "a name");
        return m.strip();
    }

    private static String firstLine(String s) {
        if (s == null) return "";
        int i = s.indexOf('\n');
        return i < 0 ? s : s.substring(0, i);
    }
}
