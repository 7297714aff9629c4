package dev.moe4j.constrain;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static dev.moe4j.constrain.Grammar.Builder.seq;

/**
 * The JSON building blocks of a schema grammar (RFC 8259 over UTF-8 bytes): whitespace, string characters,
 * numbers, integer ranges and the generic value. Rules are made once per grammar and shared.
 *
 * <p>Bounds that keep every generation finite and parseable by common libraries: whitespace is "", " ", or a
 * newline and up to 20 spaces or tabs (as llama.cpp's json-schema-to-grammar allows); integers have at most 16
 * digits; fractions at most 16; exponents at most 3 digits. String characters are whole UTF-8 characters
 * (no overlong forms, no surrogates) or escapes; {@code \}{@code u} escapes of surrogates are left out, so no
 * string decodes to a lone surrogate.
 */
final class JsonRules {
    static final int MAX_DIGITS = 16;
    static final long MAX_INTEGER = 9_999_999_999_999_999L;   // 16 digits

    final Grammar.Builder b;
    final int ws, separator, nonAscii, character, string, number, integer, value;

    JsonRules(Grammar.Builder b) {
        this.b = b;
        int indent = b.repeat("indent", new int[]{b.set(' ', ' ', '\t', '\t')}, 0, 20);
        ws = b.choice("ws", new int[0], b.text(" "), seq(b.text("\n"), indent));
        separator = b.choice("comma", seq(ws, b.text(","), ws));
        int cont = b.set(0x80, 0xBF);
        int hex = b.set('0', '9', 'a', 'f', 'A', 'F');
        int notSurrogateStart = b.set('0', '9', 'a', 'c', 'A', 'C', 'e', 'f', 'E', 'F');
        int escape = b.choice("escape",
                seq(b.text("\\"), b.set('"', '"', '\\', '\\', '/', '/', 'b', 'b', 'f', 'f', 'n', 'n', 'r', 'r', 't', 't')),
                seq(b.text("\\u"), notSurrogateStart, hex, hex, hex),
                seq(b.text("\\u"), b.set('d', 'd', 'D', 'D'), b.set('0', '7'), hex, hex));
        nonAscii = b.choice("utf8",
                new int[]{b.set(0xC2, 0xDF), cont},
                new int[]{b.set(0xE0, 0xE0), b.set(0xA0, 0xBF), cont},
                new int[]{b.set(0xE1, 0xEC, 0xEE, 0xEF), cont, cont},
                new int[]{b.set(0xED, 0xED), b.set(0x80, 0x9F), cont},
                new int[]{b.set(0xF0, 0xF0), b.set(0x90, 0xBF), cont, cont},
                new int[]{b.set(0xF1, 0xF3), cont, cont, cont},
                new int[]{b.set(0xF4, 0xF4), b.set(0x80, 0x8F), cont, cont});
        character = b.choice("char", new int[]{b.set(0x20, 0x21, 0x23, 0x5B, 0x5D, 0x7F)}, new int[]{nonAscii}, new int[]{escape});
        string = string(0, -1);
        int digit = b.set('0', '9');
        int natural = b.choice("natural", b.text("0"), seq(b.set('1', '9'), b.repeat("digits", new int[]{digit}, 0, MAX_DIGITS - 1)));
        integer = b.choice("integer", seq(b.repeat("minus", b.text("-"), 0, 1), natural));
        int fraction = b.repeat("fraction", seq(b.text("."), b.repeat("fraction.digits", new int[]{digit}, 1, MAX_DIGITS)), 0, 1);
        int exponent = b.repeat("exponent", seq(b.set('e', 'e', 'E', 'E'), b.repeat("sign", new int[]{b.set('+', '+', '-', '-')}, 0, 1),
                b.repeat("exponent.digits", new int[]{digit}, 1, 3)), 0, 1);
        number = b.choice("number", seq(integer, fraction, exponent));
        int valueRule = b.rule("value");
        value = b.ref(valueRule);
        int member = b.choice("member", seq(string, ws, b.text(":"), ws, value));
        int object = b.choice("object", seq(b.text("{"), ws, b.separated("members", new int[]{member}, new int[]{separator}, 0, -1), ws, b.text("}")));
        int array = b.choice("array", seq(b.text("["), ws, b.separated("elements", new int[]{value}, new int[]{separator}, 0, -1), ws, b.text("]")));
        b.alt(valueRule, object).alt(valueRule, array).alt(valueRule, string).alt(valueRule, number)
                .alt(valueRule, b.text("true")).alt(valueRule, b.text("false")).alt(valueRule, b.text("null"));
        anyObject = object;
    }

    final int anyObject;

    /** A string of {@code min} to {@code max} characters ({@code max < 0}: unbounded). */
    int string(int min, int max) {
        return b.choice("string", seq(b.text("\""), b.repeat("chars", new int[]{character}, min, max), b.text("\"")));
    }

    /**
     * Integers in {@code [lo, hi]}, written without leading zeros ({@code -0} left out), within ±{@link #MAX_INTEGER}.
     * Built digit by digit, as a regular expression for a numeric range is: per number of digits, then per
     * leading digit.
     */
    int integerRange(long lo, long hi) {
        List<int[]> alts = new ArrayList<>();
        if (lo < 0) {
            long negHi = -lo, negLo = hi < 0 ? -hi : 1;
            alts.add(seq(b.text("-"), naturalRange(negLo, negHi)));
        }
        if (hi >= 0) alts.add(new int[]{naturalRange(Math.max(0, lo), hi)});
        return b.choice("range", alts.toArray(int[][]::new));
    }

    /** Naturals in {@code [lo, hi]}, 0 <= lo <= hi. */
    private int naturalRange(long lo, long hi) {
        List<int[]> alts = new ArrayList<>();
        String los = Long.toString(lo), his = Long.toString(hi);
        for (int len = los.length(); len <= his.length(); len++) {
            String a = len == los.length() ? los : "1" + "0".repeat(len - 1);
            String z = len == his.length() ? his : "9".repeat(len);
            alts.add(new int[]{sameLength(a, z)});
        }
        return b.choice("naturals", alts.toArray(int[][]::new));
    }

    /** Digit strings of one length between {@code lo} and {@code hi} inclusive. */
    private int sameLength(String lo, String hi) {
        if (lo.isEmpty()) return b.choice("empty", new int[0]);
        int n = lo.length();
        char l = lo.charAt(0), h = hi.charAt(0);
        String loRest = lo.substring(1), hiRest = hi.substring(1);
        if (l == h) return b.choice("digits", seq(b.set(l, l), sameLength(loRest, hiRest)));
        if (loRest.equals("0".repeat(n - 1)) && hiRest.equals("9".repeat(n - 1))) {
            return b.choice("digits", seq(b.set(l, h), anyDigits(n - 1)));
        }
        List<int[]> alts = new ArrayList<>();
        alts.add(seq(b.set(l, l), sameLength(loRest, "9".repeat(n - 1))));
        if (h - l > 1) alts.add(seq(b.set(l + 1, h - 1), anyDigits(n - 1)));
        alts.add(seq(b.set(h, h), sameLength("0".repeat(n - 1), hiRest)));
        return b.choice("digits", alts.toArray(int[][]::new));
    }

    private int anyDigits(int n) {
        return b.repeat("digits", new int[]{b.set('0', '9')}, n, n);
    }

    /** The compact JSON text of a parsed value (as {@link dev.moe4j.util.Json} returns them), for enum and const. */
    static String literal(Object v) {
        StringBuilder s = new StringBuilder();
        write(v, s);
        return s.toString();
    }

    private static void write(Object v, StringBuilder s) {
        switch (v) {
            case null -> s.append("null");
            case String str -> quote(str, s);
            case Map<?, ?> m -> {
                s.append('{');
                boolean first = true;
                for (Map.Entry<?, ?> e : m.entrySet()) {
                    if (!first) s.append(',');
                    first = false;
                    quote(String.valueOf(e.getKey()), s);
                    s.append(':');
                    write(e.getValue(), s);
                }
                s.append('}');
            }
            case List<?> l -> {
                s.append('[');
                for (int i = 0; i < l.size(); i++) {
                    if (i > 0) s.append(',');
                    write(l.get(i), s);
                }
                s.append(']');
            }
            default -> s.append(v);   // Long, Double (finite: JSON has no NaN), Boolean
        }
    }

    static void quote(String str, StringBuilder s) {
        s.append('"');
        for (int i = 0; i < str.length(); i++) {
            char c = str.charAt(i);
            switch (c) {
                case '"' -> s.append("\\\"");
                case '\\' -> s.append("\\\\");
                case '\n' -> s.append("\\n");
                case '\r' -> s.append("\\r");
                case '\t' -> s.append("\\t");
                default -> {
                    if (c < 0x20) s.append(String.format("\\u%04x", (int) c));
                    else s.append(c);
                }
            }
        }
        s.append('"');
    }
}
