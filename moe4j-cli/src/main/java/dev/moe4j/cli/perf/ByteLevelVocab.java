package dev.moe4j.cli.perf;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * A GPT-2 style byte-level BPE vocabulary of an exact size, for random-weight models: the 256 byte symbols
 * (GPT-2's byte-to-unicode map), then merges that grow lowercase words and space-prefixed words letter by
 * letter, then one {@code <|endoftext|>} control token. Every merge joins two existing tokens, so
 * llama.cpp and moe4j tokenize with it.
 */
public record ByteLevelVocab(List<String> tokens, List<Integer> types, List<String> merges, int eos) {
    public static final int NORMAL = 1, CONTROL = 3;

    public static ByteLevelVocab ofSize(int size) {
        if (size < 258) throw new IllegalArgumentException("vocabulary of " + size + " is smaller than 256 bytes + 2");
        List<String> tokens = new ArrayList<>(size);
        for (int b = 0; b < 256; b++) tokens.add(byteSymbol(b));
        Set<String> seen = new HashSet<>(tokens);
        List<String> merges = new ArrayList<>();
        List<String> letters = new ArrayList<>();
        for (char c = 'a'; c <= 'z'; c++) letters.add(String.valueOf(c));
        // Breadth-first: each token of the frontier extended by one letter; both halves of a merge exist.
        List<String> frontier = new ArrayList<>();
        frontier.add(byteSymbol(' '));
        frontier.addAll(letters);
        for (int i = 0; tokens.size() < size - 1; i++) {
            String left = frontier.get(i);
            for (String c : letters) {
                if (tokens.size() == size - 1) break;
                String joined = left + c;
                if (seen.add(joined)) {
                    tokens.add(joined);
                    merges.add(left + " " + c);
                    frontier.add(joined);
                }
            }
        }
        tokens.add("<|endoftext|>");
        List<Integer> types = new ArrayList<>(size);
        for (int i = 0; i < size; i++) types.add(i == size - 1 ? CONTROL : NORMAL);
        return new ByteLevelVocab(tokens, types, merges, size - 1);
    }

    /** GPT-2's printable stand-in for a byte. */
    static String byteSymbol(int b) {
        boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
        if (printable) return String.valueOf((char) b);
        int n = 0;
        for (int c = 0; c < b; c++) if (!((c >= '!' && c <= '~') || (c >= 0xA1 && c <= 0xAC) || (c >= 0xAE && c <= 0xFF))) n++;
        return String.valueOf((char) (256 + n));
    }
}
