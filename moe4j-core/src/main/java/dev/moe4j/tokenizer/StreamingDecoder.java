package dev.moe4j.tokenizer;

import java.util.ArrayList;
import java.util.List;

/**
 * Decodes a short window of recent ids and emits what the newest id added (HF's DecodeStream scheme). Keeping
 * the previous token in the window lets decoders that act on the first token (Strip of the ▁ space) behave
 * as they do mid-text; text ending in U+FFFD is held back until the character's remaining bytes arrive.
 */
final class StreamingDecoder implements TokenDecoder {
    /** A UTF-8 character has at most 4 bytes, each token carries at least one: more pending means invalid. */
    private static final int MAX_PENDING = 4;

    private final Tokenizer tokenizer;
    private final List<Integer> ids = new ArrayList<>();
    private int prefixIndex;
    private String prefix = "";

    StreamingDecoder(Tokenizer tokenizer) {
        this.tokenizer = tokenizer;
    }

    @Override
    public String next(int id) {
        tokenizer.tokenText(id); // fails on a bad id before it enters the window
        ids.add(id);
        String text = decodeWindow();
        boolean complete = !text.endsWith("\uFFFD") || ids.size() - prefixIndex > MAX_PENDING;
        if (text.length() <= prefix.length() || !complete) return "";
        String out = text.startsWith(prefix) ? text.substring(prefix.length()) : text.substring(common(text, prefix));
        List<Integer> keep = new ArrayList<>(ids.subList(prefixIndex, ids.size()));
        int newPrefixIndex = ids.size() - prefixIndex;
        ids.clear();
        ids.addAll(keep);
        prefixIndex = newPrefixIndex;
        prefix = decodeWindow();
        return out;
    }

    @Override
    public String flush() {
        String text = decodeWindow();
        String out = text.length() > prefix.length() ? text.substring(common(text, prefix)) : "";
        ids.clear();
        prefixIndex = 0;
        prefix = "";
        return out;
    }

    private String decodeWindow() {
        int[] a = new int[ids.size()];
        for (int i = 0; i < a.length; i++) a[i] = ids.get(i);
        return tokenizer.decode(a);
    }

    private static int common(String a, String b) {
        int n = Math.min(a.length(), b.length()), i = 0;
        while (i < n && a.charAt(i) == b.charAt(i)) i++;
        return i;
    }
}
