package dev.moe4j.util;

import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A small strict JSON reader for the files moe4j-core must read itself (config.json, tokenizer.json,
 * safetensors headers) while staying free of dependencies.
 *
 * <p>Objects become {@link LinkedHashMap} (key order kept: tokenizer vocabularies rely on it), arrays
 * {@link ArrayList}, numbers {@link Long} when integral and in range, else {@link Double}; plus
 * {@link String}, {@link Boolean} and {@code null}. A key repeated within one object is an error (which of
 * two values a file meant is unknowable), and so is nesting deeper than {@link #MAX_DEPTH}, which keeps the
 * recursive descent far from the thread's stack limit.
 */
public final class Json {
    /** Deepest nesting of arrays and objects accepted; model files nest a handful of levels. */
    public static final int MAX_DEPTH = 128;
    /** Largest config file (config.json, an index, tokenizer_config.json) read: published ones are under 10 MB. */
    public static final long MAX_CONFIG_BYTES = 64L << 20;

    private final String s;
    private int p;
    private int depth;

    private Json(String s) {
        this.s = s;
    }

    /** Parses one JSON value; throws {@link IllegalArgumentException} with the character offset on bad input. */
    public static Object parse(String text) {
        Json j = new Json(text);
        j.ws();
        Object v = j.value();
        j.ws();
        if (j.p != text.length()) throw j.error("trailing characters");
        return v;
    }

    @SuppressWarnings("unchecked")
    public static Map<String, Object> parseObject(String text) {
        Object v = parse(text);
        if (!(v instanceof Map)) throw new IllegalArgumentException("not valid JSON here: expected an object at the top level");
        return (Map<String, Object>) v;
    }

    /**
     * Reads and parses a JSON file whose top level must be an object.
     *
     * @param maxBytes the largest file accepted, checked before reading (a config file is kilobytes)
     * @throws Moe4jException naming the file when it is missing, unreadable, larger than {@code maxBytes}
     *                        or not a valid JSON object
     */
    public static Map<String, Object> parseFile(Path file, long maxBytes) {
        try {
            long size = Files.size(file);
            if (size > maxBytes) throw new Moe4jException(file + ": file is " + size + " bytes, more than the " + maxBytes + " accepted");
            return parseObject(Files.readString(file));
        } catch (NoSuchFileException e) {
            throw new Moe4jException(file + ": no such file");
        } catch (CharacterCodingException e) {
            throw new Moe4jException(file + ": not valid UTF-8 text");
        } catch (IOException e) {
            throw new Moe4jException(file + ": cannot read: " + e.getMessage(), e);
        } catch (IllegalArgumentException e) {
            throw new Moe4jException(file + ": " + e.getMessage());
        }
    }

    private IllegalArgumentException error(String what) {
        return new IllegalArgumentException("not valid JSON: " + what + " at offset " + p);
    }

    private void ws() {
        while (p < s.length()) {
            char c = s.charAt(p);
            if (c == ' ' || c == '\n' || c == '\r' || c == '\t') p++;
            else break;
        }
    }

    private Object value() {
        if (p >= s.length()) throw error("unexpected end");
        char c = s.charAt(p);
        switch (c) {
            case '{': return object();
            case '[': return array();
            case '"': return string();
            case 't': literal("true"); return Boolean.TRUE;
            case 'f': literal("false"); return Boolean.FALSE;
            case 'n': literal("null"); return null;
            default:
                if (c == '-' || (c >= '0' && c <= '9')) return number();
                throw error("unexpected character '" + c + "'");
        }
    }

    private void literal(String word) {
        if (!s.startsWith(word, p)) throw error("expected " + word);
        p += word.length();
    }

    private void enter() {
        if (++depth > MAX_DEPTH) throw error("nesting deeper than " + MAX_DEPTH + " levels");
    }

    private Map<String, Object> object() {
        enter();
        Map<String, Object> m = new LinkedHashMap<>();
        p++;
        ws();
        if (peek() == '}') { p++; depth--; return m; }
        while (true) {
            ws();
            if (peek() != '"') throw error("expected a key");
            int keyAt = p;
            String k = string();
            ws();
            if (peek() != ':') throw error("expected ':'");
            p++;
            ws();
            if (m.containsKey(k)) {
                p = keyAt;
                throw error("duplicate key \"" + k + "\"");
            }
            m.put(k, value());
            ws();
            char c = peek();
            p++;
            if (c == '}') { depth--; return m; }
            if (c != ',') { p--; throw error("expected ',' or '}'"); }
        }
    }

    private List<Object> array() {
        enter();
        List<Object> a = new ArrayList<>();
        p++;
        ws();
        if (peek() == ']') { p++; depth--; return a; }
        while (true) {
            ws();
            a.add(value());
            ws();
            char c = peek();
            p++;
            if (c == ']') { depth--; return a; }
            if (c != ',') { p--; throw error("expected ',' or ']'"); }
        }
    }

    private char peek() {
        if (p >= s.length()) throw error("unexpected end");
        return s.charAt(p);
    }

    private String string() {
        p++; // opening quote
        StringBuilder b = null;
        int start = p;
        while (true) {
            if (p >= s.length()) throw error("unterminated string");
            char c = s.charAt(p);
            if (c == '"') {
                String out = b == null ? s.substring(start, p) : b.append(s, start, p).toString();
                p++;
                return out;
            }
            if (c == '\\') {
                if (b == null) b = new StringBuilder();
                b.append(s, start, p);
                p++;
                char e = peek();
                p++;
                switch (e) {
                    case '"' -> b.append('"');
                    case '\\' -> b.append('\\');
                    case '/' -> b.append('/');
                    case 'b' -> b.append('\b');
                    case 'f' -> b.append('\f');
                    case 'n' -> b.append('\n');
                    case 'r' -> b.append('\r');
                    case 't' -> b.append('\t');
                    case 'u' -> {
                        if (p + 4 > s.length()) throw error("bad \\u escape");
                        try {
                            b.append((char) Integer.parseInt(s.substring(p, p + 4), 16));
                        } catch (NumberFormatException ex) {
                            throw error("bad \\u escape");
                        }
                        p += 4;
                    }
                    default -> throw error("bad escape \\" + e);
                }
                start = p;
            } else {
                p++;
            }
        }
    }

    private Object number() {
        int start = p;
        if (s.charAt(p) == '-') p++;
        boolean integral = true;
        while (p < s.length()) {
            char c = s.charAt(p);
            if (c >= '0' && c <= '9') p++;
            else if (c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-') { integral = false; p++; }
            else break;
        }
        String t = s.substring(start, p);
        try {
            if (integral && t.length() < 19) return Long.parseLong(t);
            return Double.parseDouble(t);
        } catch (NumberFormatException ex) {
            p = start;
            throw error("bad number '" + t + "'");
        }
    }

    // ---- typed accessors used by config readers ----

    @SuppressWarnings("unchecked")
    public static Map<String, Object> obj(Object o) {
        return o instanceof Map ? (Map<String, Object>) o : null;
    }

    @SuppressWarnings("unchecked")
    public static List<Object> arr(Object o) {
        return o instanceof List ? (List<Object>) o : null;
    }
}
