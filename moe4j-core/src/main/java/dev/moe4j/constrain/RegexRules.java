package dev.moe4j.constrain;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static dev.moe4j.constrain.Grammar.Builder.seq;

/**
 * A JSON-schema {@code pattern} (ECMA-262 syntax, the subset below) as the grammar of JSON strings whose decoded
 * text it matches. As in JSON schema the pattern is not anchored unless it starts with {@code ^} / ends with
 * {@code $}: an unanchored side allows any characters. Decoded characters are written as JSON requires: {@code "}
 * and {@code \} and control characters as escapes, everything else as its UTF-8 bytes.
 *
 * <p>Supported: literals, escaped metacharacters, {@code .} (any character but a line break), classes
 * {@code [a-z0-9_]} and negated {@code [^...]} (ASCII members), {@code \d \w \s \D \W \S}, groups
 * {@code (...)} and {@code (?:...)}, alternation, quantifiers {@code * + ? {n} {n,} {n,m}} (a lazy {@code ?}
 * after one changes nothing here). Anything else (back-references, look-arounds, {@code \b}, anchors inside)
 * is a {@link SchemaException} naming the pattern.
 */
final class RegexRules {
    private final Grammar.Builder b;
    private final JsonRules json;
    private final String path;
    private String p;
    private int i;

    RegexRules(Grammar.Builder b, JsonRules json, String path) {
        this.b = b;
        this.json = json;
        this.path = path;
    }

    /** The element matching a JSON string (quotes included) whose text matches {@code pattern}. */
    int string(String pattern) {
        p = pattern;
        i = 0;
        boolean startAnchored = p.startsWith("^");
        if (startAnchored) i = 1;
        boolean endAnchored = p.endsWith("$") && !p.endsWith("\\$");
        if (endAnchored) p = p.substring(0, p.length() - 1);
        int[] body = alternation();
        if (i != p.length()) throw unsupported("unexpected '" + p.charAt(i) + "' at offset " + i);
        int any = b.repeat("chars", new int[]{json.character}, 0, -1);
        return b.choice("pattern", seq(b.text("\""), startAnchored ? new int[0] : new int[]{any}, body,
                endAnchored ? new int[0] : new int[]{any}, b.text("\"")));
    }

    private int[] alternation() {
        List<int[]> alts = new ArrayList<>();
        alts.add(concatenation());
        while (i < p.length() && p.charAt(i) == '|') {
            i++;
            alts.add(concatenation());
        }
        return alts.size() == 1 ? alts.get(0) : new int[]{b.choice("alt", alts.toArray(int[][]::new))};
    }

    private int[] concatenation() {
        int[] out = new int[0];
        while (i < p.length() && p.charAt(i) != '|' && p.charAt(i) != ')') out = seq(out, quantified(atom()));
        return out;
    }

    private int[] quantified(int[] atom) {
        if (i >= p.length()) return atom;
        int min, max;
        char c = p.charAt(i);
        switch (c) {
            case '*' -> { min = 0; max = -1; i++; }
            case '+' -> { min = 1; max = -1; i++; }
            case '?' -> { min = 0; max = 1; i++; }
            case '{' -> {
                int close = p.indexOf('}', i);
                String inside = close < 0 ? "" : p.substring(i + 1, close);
                if (!inside.matches("\\d{1,4}(,\\d{0,4})?")) throw unsupported("bad repetition at offset " + i);
                String[] parts = inside.split(",", -1);
                min = Integer.parseInt(parts[0]);
                max = parts.length == 1 ? min : parts[1].isEmpty() ? -1 : Integer.parseInt(parts[1]);
                if (max >= 0 && max < min) throw unsupported("repetition {" + inside + "} has max below min");
                if (Math.max(min, max) > JsonSchemaGrammar.MAX_BOUND) throw unsupported("repetition above " + JsonSchemaGrammar.MAX_BOUND);
                i = close + 1;
            }
            default -> { return atom; }
        }
        if (i < p.length() && p.charAt(i) == '?') i++;   // lazy: the same set of strings
        if (i < p.length() && (p.charAt(i) == '+' || "*?{".indexOf(p.charAt(i)) >= 0)) throw unsupported("nested quantifier at offset " + i);
        return new int[]{b.repeat("rep", atom, min, max)};
    }

    private int[] atom() {
        char c = p.charAt(i);
        switch (c) {
            case '(' -> {
                i++;
                if (p.startsWith("?:", i)) i += 2;
                else if (i < p.length() && p.charAt(i) == '?') throw unsupported("look-arounds and named groups are not supported");
                int[] inner = alternation();
                if (i >= p.length() || p.charAt(i) != ')') throw unsupported("unclosed group");
                i++;
                return new int[]{b.choice("group", inner)};
            }
            case '[' -> { return new int[]{chars(charClass())}; }
            case '.' -> {
                i++;
                Chars any = new Chars();
                for (int k = 0x20; k < 0x80; k++) any.ascii[k] = true;
                any.nonAscii = true;
                return new int[]{chars(any)};
            }
            case '\\' -> { return new int[]{chars(escape())}; }
            case '^', '$' -> throw unsupported("anchors are supported only at the pattern's start and end");
            case '*', '+', '?', '{' -> throw unsupported("quantifier '" + c + "' with nothing to repeat at offset " + i);
            default -> {
                int cp = p.codePointAt(i);
                i += Character.charCount(cp);
                return new int[]{chars(Chars.of(cp))};
            }
        }
    }

    /** A bracket class, {@code i} at its '['. */
    private Chars charClass() {
        i++;
        boolean negated = i < p.length() && p.charAt(i) == '^';
        if (negated) i++;
        Chars set = new Chars();
        boolean first = true;
        while (i < p.length() && (p.charAt(i) != ']' || first)) {
            first = false;
            Chars one = p.charAt(i) == '\\' ? escape() : Chars.of(p.codePointAt(i));
            if (p.charAt(i) != '\\') i += Character.charCount(p.codePointAt(i));
            if (i + 1 < p.length() && p.charAt(i) == '-' && p.charAt(i + 1) != ']' && one.single >= 0) {
                i++;
                int from = one.single;
                int to = p.charAt(i) == '\\' ? escape().single : p.codePointAt(i);
                if (p.charAt(i) != '\\') i += Character.charCount(to);
                if (to < 0 || to < from || to >= 0x80) throw unsupported("class range must be ASCII and ascending");
                for (int k = from; k <= to; k++) set.ascii[k] = true;
            } else {
                set.add(one);
            }
        }
        if (i >= p.length()) throw unsupported("unclosed character class");
        i++;
        if (!negated) return set;
        if (!set.others.isEmpty()) throw unsupported("a negated class with non-ASCII members is not supported");
        Chars out = new Chars();
        for (int k = 0x20; k < 0x80; k++) out.ascii[k] = !set.ascii[k];
        out.nonAscii = !set.nonAscii;
        return out;
    }

    /** An escape, {@code i} at its backslash. */
    private Chars escape() {
        if (i + 1 >= p.length()) throw unsupported("trailing backslash");
        char c = p.charAt(i + 1);
        i += 2;
        Chars set = new Chars();
        switch (c) {
            case 'd', 'w', 's' -> set = named(c);
            case 'D', 'W', 'S' -> {
                Chars positive = named(Character.toLowerCase(c));
                for (int k = 0x20; k < 0x80; k++) set.ascii[k] = !positive.ascii[k];
                set.nonAscii = true;
            }
            case 'n' -> set = Chars.of('\n');
            case 't' -> set = Chars.of('\t');
            case 'r' -> set = Chars.of('\r');
            case 'f' -> set = Chars.of('\f');
            case 'v' -> set = Chars.of(0x0B);
            default -> {
                if (Character.isLetterOrDigit(c)) throw unsupported("escape \\" + c + " is not supported");
                set = Chars.of(c);   // an escaped metacharacter or punctuation
            }
        }
        return set;
    }

    /** The class of \\d, \\w or \\s (ASCII, as ECMA-262 without the u flag, less its non-ASCII spaces). */
    private static Chars named(char c) {
        Chars set = new Chars();
        switch (c) {
            case 'd' -> range(set, '0', '9');
            case 'w' -> { range(set, 'a', 'z'); range(set, 'A', 'Z'); range(set, '0', '9'); set.ascii['_'] = true; }
            default -> { set.ascii[' '] = set.ascii['\t'] = set.ascii['\n'] = set.ascii['\r'] = set.ascii[0x0B] = set.ascii[0x0C] = true; }
        }
        return set;
    }

    private static void range(Chars set, char from, char to) {
        for (int k = from; k <= to; k++) set.ascii[k] = true;
    }

    /** The element matching one decoded character of the set, written as a JSON string writes it. */
    private int chars(Chars set) {
        List<int[]> alts = new ArrayList<>();
        long[] plain = new long[4];
        boolean anyPlain = false;
        for (int k = 0; k < 0x80; k++) {
            if (!set.ascii[k]) continue;
            String escaped = switch (k) {
                case '"' -> "\\\"";
                case '\\' -> "\\\\";
                case '\n' -> "\\n";
                case '\t' -> "\\t";
                case '\r' -> "\\r";
                case '\b' -> "\\b";
                case '\f' -> "\\f";
                default -> k < 0x20 ? String.format("\\u%04x", k) : null;
            };
            if (escaped != null) alts.add(b.text(escaped));
            else { plain[k >>> 6] |= 1L << (k & 63); anyPlain = true; }
        }
        if (anyPlain) alts.add(new int[]{b.set(plain)});
        if (set.nonAscii) alts.add(new int[]{json.nonAscii});
        for (int cp : set.others) alts.add(b.bytes(new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8)));
        if (alts.isEmpty()) throw unsupported("a class that matches no character");
        return b.choice("class", alts.toArray(int[][]::new));
    }

    private SchemaException unsupported(String why) {
        return new SchemaException(path, "pattern", "'pattern' " + JsonRules.literal(p) + ": " + why);
    }

    /** A set of characters: ASCII members, all non-ASCII ones, or listed non-ASCII ones. */
    private static final class Chars {
        final boolean[] ascii = new boolean[128];
        boolean nonAscii;
        final List<Integer> others = new ArrayList<>();
        int single = -1;   // the one ASCII code point when made by of(), for class ranges

        static Chars of(int cp) {
            Chars c = new Chars();
            if (cp < 0x80) { c.ascii[cp] = true; c.single = cp; }
            else c.others.add(cp);
            return c;
        }

        void add(Chars o) {
            for (int k = 0; k < 128; k++) ascii[k] |= o.ascii[k];
            nonAscii |= o.nonAscii;
            others.addAll(o.others);
        }
    }
}
