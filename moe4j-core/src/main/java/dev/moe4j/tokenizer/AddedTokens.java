package dev.moe4j.tokenizer;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Finds added tokens (specials like {@code <|im_start|>}) in text, leftmost-longest and non-overlapping, as HF's
 * {@code AddedVocabulary} does: a token marked {@code single_word} counts only where no word character touches
 * it (else its text stays plain), {@code lstrip}/{@code rstrip} take the Unicode White_Space beside it along.
 */
final class AddedTokens {
    /** {@code normalized}: matched in the normalised text (after the raw-text tokens were split off), as HF does. */
    record Token(String content, int id, boolean special, boolean lstrip, boolean rstrip, boolean singleWord,
                 boolean normalized) {
        Token(String content, int id, boolean special) {
            this(content, id, special, false, false, false, false);
        }
    }

    /** A piece of the input: either plain text to run through the model ({@code id < 0}) or one added token. */
    record Segment(String text, int id, int offset) {}

    private final Map<Character, List<Token>> byFirstChar = new HashMap<>();

    AddedTokens(List<Token> tokens) {
        for (Token t : tokens) {
            if (t.content.isEmpty()) continue;
            byFirstChar.computeIfAbsent(t.content.charAt(0), k -> new ArrayList<>()).add(t);
        }
        for (List<Token> l : byFirstChar.values()) l.sort(Comparator.comparingInt((Token t) -> -t.content.length()));
    }

    boolean isEmpty() {
        return byFirstChar.isEmpty();
    }

    /** Splits {@code text}; segment offsets are {@code base} plus the position in {@code text}. */
    List<Segment> split(String text, int base) {
        List<Segment> out = new ArrayList<>();
        if (byFirstChar.isEmpty()) {
            if (!text.isEmpty()) out.add(new Segment(text, -1, base));
            return out;
        }
        int plainStart = 0;
        int i = 0;
        while (i < text.length()) {
            Token hit = match(text, i);
            if (hit == null) { i++; continue; }
            int end = i + hit.content.length();
            if (hit.singleWord && (wordCharBefore(text, i) || wordCharAt(text, end))) {
                i = end; // discarded: the matched text stays plain, and matching resumes after it
                continue;
            }
            int plainEnd = i;
            if (hit.lstrip) while (plainEnd > plainStart && isWhiteSpace(text.codePointBefore(plainEnd))) plainEnd -= Character.charCount(text.codePointBefore(plainEnd));
            if (plainEnd > plainStart) out.add(new Segment(text.substring(plainStart, plainEnd), -1, base + plainStart));
            out.add(new Segment(hit.content, hit.id, base + i));
            i = end;
            if (hit.rstrip) while (i < text.length() && isWhiteSpace(text.codePointAt(i))) i += Character.charCount(text.codePointAt(i));
            plainStart = i;
        }
        if (plainStart < text.length()) out.add(new Segment(text.substring(plainStart), -1, base + plainStart));
        return out;
    }

    private Token match(String text, int i) {
        List<Token> cands = byFirstChar.get(text.charAt(i));
        if (cands == null) return null;
        for (Token t : cands) if (text.startsWith(t.content, i)) return t;
        return null;
    }

    private static boolean wordCharBefore(String s, int i) {
        return i > 0 && isWordChar(s.codePointBefore(i));
    }

    private static boolean wordCharAt(String s, int i) {
        return i < s.length() && isWordChar(s.codePointAt(i));
    }

    /** Rust's {@code char::is_alphanumeric() || c == '_'}. */
    private static boolean isWordChar(int cp) {
        int type = Character.getType(cp);
        return cp == '_' || Character.isAlphabetic(cp) || type == Character.DECIMAL_DIGIT_NUMBER
                || type == Character.LETTER_NUMBER || type == Character.OTHER_NUMBER;
    }

    /** Unicode's White_Space property (Rust's {@code char::is_whitespace}); Java's isWhitespace differs. */
    static boolean isWhiteSpace(int cp) {
        return (cp >= 0x09 && cp <= 0x0d) || cp == 0x20 || cp == 0x85 || cp == 0xa0 || cp == 0x1680
                || (cp >= 0x2000 && cp <= 0x200a) || cp == 0x2028 || cp == 0x2029 || cp == 0x202f || cp == 0x205f
                || cp == 0x3000;
    }
}
