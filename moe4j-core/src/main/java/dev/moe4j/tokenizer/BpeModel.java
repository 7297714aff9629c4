package dev.moe4j.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The BPE model: turns one pre-tokenized word into ids by applying merges lowest rank first, leftmost first on
 * ties, as Hugging Face's {@code Word::merge_all} does. A heap over a linked list of symbols keeps this
 * O(n log n), which matters for SentencePiece models whose whole input is one word.
 */
final class BpeModel {
    private static final int CACHE_MAX_WORD = 64;
    private static final int CACHE_MAX_ENTRIES = 50_000;

    final Map<String, Integer> vocab;
    /** (left id &lt;&lt; 32 | right id) → (rank &lt;&lt; 32 | merged id). */
    private final Map<Long, Long> merges;
    private final boolean byteFallback;
    private final int unkId;
    private final boolean fuseUnk;
    private final boolean ignoreMerges;
    private final int[] byteIds = new int[256];
    /**
     * SentencePiece's word mark '▁' when no piece has it right after another character: then no merge can
     * join across the start of a run of '▁', so a long input (SentencePiece pipelines see a whole segment as one
     * word) is cut there into words that merge independently, giving the same ids, and short words are cached.
     * 0 when the vocabulary does not allow it.
     */
    private final char cutBefore;
    private final Map<String, int[]> cache = new ConcurrentHashMap<>();

    BpeModel(Map<String, Integer> vocab, Map<Long, Long> merges, boolean byteFallback, int unkId, boolean fuseUnk,
             boolean ignoreMerges) {
        this.vocab = vocab;
        this.merges = merges;
        this.byteFallback = byteFallback;
        this.unkId = unkId;
        this.fuseUnk = fuseUnk;
        this.ignoreMerges = ignoreMerges;
        for (int b = 0; b < 256; b++) {
            Integer id = vocab.get(String.format("<0x%02X>", b));
            byteIds[b] = id == null ? -1 : id;
        }
        this.cutBefore = !ignoreMerges && vocab.containsKey(WORD_MARK) && noMarkAfterOtherChar(vocab) ? '\u2581' : 0;
    }

    private static final String WORD_MARK = "\u2581";

    private static boolean noMarkAfterOtherChar(Map<String, Integer> vocab) {
        for (String piece : vocab.keySet()) {
            for (int i = 1; i < piece.length(); i++) {
                if (piece.charAt(i) == '\u2581' && piece.charAt(i - 1) != '\u2581') return false;
            }
        }
        return true;
    }

    static long pair(int a, int b) {
        return ((long) a << 32) | (b & 0xffffffffL);
    }

    /** Builds the merge table from "left right" pieces in rank order; pairs whose parts are unknown are skipped. */
    static Map<Long, Long> mergesFromPairs(Map<String, Integer> vocab, Iterable<String[]> pairsInRankOrder,
                                           String source) {
        Map<Long, Long> m = new HashMap<>();
        int rank = 0;
        for (String[] p : pairsInRankOrder) {
            Integer a = vocab.get(p[0]), b = vocab.get(p[1]), c = vocab.get(p[0] + p[1]);
            if (a == null || b == null || c == null) {
                throw new dev.moe4j.util.Moe4jException(source + ": merge '" + p[0] + " " + p[1]
                        + "' uses a token missing from the vocabulary");
            }
            m.putIfAbsent(pair(a, b), ((long) rank << 32) | c);
            rank++;
        }
        return m;
    }

    void encodeWord(String word, IntList out) {
        if (word.isEmpty()) return;
        if (cutBefore != 0 && word.length() > 1) {
            int start = 0;
            for (int i = 1; i < word.length(); i++) {
                if (word.charAt(i) == cutBefore && word.charAt(i - 1) != cutBefore) {
                    encodePiece(word.substring(start, i), out);
                    start = i;
                }
            }
            encodePiece(start == 0 ? word : word.substring(start), out);
            return;
        }
        encodePiece(word, out);
    }

    private void encodePiece(String word, IntList out) {
        if (ignoreMerges) {
            Integer whole = vocab.get(word);
            if (whole != null) { out.add(whole); return; }
        }
        boolean cacheable = word.length() <= CACHE_MAX_WORD;
        if (cacheable) {
            int[] hit = cache.get(word);
            if (hit != null) { out.addAll(hit); return; }
        }
        int[] ids = merge(initialSymbols(word));
        if (cacheable) {
            if (cache.size() > CACHE_MAX_ENTRIES) cache.clear();
            cache.put(word, ids);
        }
        out.addAll(ids);
    }

    /** One symbol per character; characters missing from the vocabulary become byte tokens or unk. */
    private IntList initialSymbols(String word) {
        IntList syms = new IntList();
        boolean lastUnk = false;
        for (int i = 0; i < word.length(); ) {
            int cp = word.codePointAt(i);
            int len = Character.charCount(cp);
            String ch = word.substring(i, i + len);
            i += len;
            Integer id = vocab.get(ch);
            if (id != null) { syms.add(id); lastUnk = false; continue; }
            if (byteFallback) {
                byte[] bs = ch.getBytes(StandardCharsets.UTF_8);
                boolean all = true;
                for (byte b : bs) all &= byteIds[b & 0xff] >= 0;
                if (all) {
                    for (byte b : bs) syms.add(byteIds[b & 0xff]);
                    lastUnk = false;
                    continue;
                }
            }
            if (unkId < 0) continue; // as HF: without an unk token the character is dropped
            if (!(fuseUnk && lastUnk)) syms.add(unkId);
            lastUnk = true;
        }
        return syms;
    }

    private int[] merge(IntList syms) {
        int n = syms.size();
        int[] id = syms.toArray();
        if (n < 2) return id;
        int[] prev = new int[n], next = new int[n];
        boolean[] dead = new boolean[n];
        for (int i = 0; i < n; i++) { prev[i] = i - 1; next[i] = i + 1 < n ? i + 1 : -1; }
        // entries: rank << 32 | position, so ties go to the leftmost pair
        PriorityQueue<Long> heap = new PriorityQueue<>();
        for (int i = 0; i + 1 < n; i++) push(heap, id[i], id[i + 1], i);
        int alive = n;
        while (!heap.isEmpty() && alive > 1) {
            long top = heap.poll();
            int pos = (int) top, rank = (int) (top >>> 32);
            if (dead[pos] || next[pos] < 0) continue;
            int right = next[pos];
            Long m = merges.get(pair(id[pos], id[right]));
            if (m == null || (int) (m >>> 32) != rank) continue; // stale entry
            id[pos] = (int) (long) m;
            dead[right] = true;
            alive--;
            next[pos] = next[right];
            if (next[pos] >= 0) prev[next[pos]] = pos;
            if (prev[pos] >= 0) push(heap, id[prev[pos]], id[pos], prev[pos]);
            if (next[pos] >= 0) push(heap, id[pos], id[next[pos]], pos);
        }
        int[] out = new int[alive];
        for (int i = 0, k = 0; i >= 0; i = next[i]) out[k++] = id[i];
        return out;
    }

    private void push(PriorityQueue<Long> heap, int a, int b, int pos) {
        Long m = merges.get(pair(a, b));
        if (m != null) heap.add((m >>> 32 << 32) | pos);
    }
}
