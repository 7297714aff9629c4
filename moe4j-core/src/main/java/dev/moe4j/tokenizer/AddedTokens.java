package dev.moe4j.tokenizer;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Finds added tokens (specials like {@code <|im_start|>}) in raw text, leftmost-longest, as HF does. */
final class AddedTokens {
    record Token(String content, int id, boolean special, boolean lstrip, boolean rstrip) {}

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

    List<Segment> split(String text) {
        List<Segment> out = new ArrayList<>();
        if (byFirstChar.isEmpty()) {
            if (!text.isEmpty()) out.add(new Segment(text, -1, 0));
            return out;
        }
        int plainStart = 0;
        int i = 0;
        while (i < text.length()) {
            Token hit = match(text, i);
            if (hit == null) { i++; continue; }
            int plainEnd = i;
            if (hit.lstrip) while (plainEnd > plainStart && Character.isWhitespace(text.charAt(plainEnd - 1))) plainEnd--;
            if (plainEnd > plainStart) out.add(new Segment(text.substring(plainStart, plainEnd), -1, plainStart));
            out.add(new Segment(hit.content, hit.id, i));
            i += hit.content.length();
            if (hit.rstrip) while (i < text.length() && Character.isWhitespace(text.charAt(i))) i++;
            plainStart = i;
        }
        if (plainStart < text.length()) out.add(new Segment(text.substring(plainStart), -1, plainStart));
        return out;
    }

    private Token match(String text, int i) {
        List<Token> cands = byFirstChar.get(text.charAt(i));
        if (cands == null) return null;
        for (Token t : cands) if (text.startsWith(t.content, i)) return t;
        return null;
    }
}
