package dev.moe4j.tokenizer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A SentencePiece BPE vocabulary (pieces, scores, types), shared by {@code tokenizer.model} and GGUF 'llama'
 * metadata. It is turned into the pipeline HF's LlamaConverter builds: merges ranked by the merged piece's
 * score, Metaspace with prepend scheme "first", byte fallback, control/unknown/user-defined pieces matched
 * in the text, and the Replace/ByteFallback/Fuse/Strip decoder.
 */
final class SpmVocab {
    static final int NORMAL = 1, UNKNOWN = 2, CONTROL = 3, USER_DEFINED = 4, UNUSED = 5, BYTE = 6;

    String source;
    String[] pieces;
    float[] scores;
    int[] types;
    boolean addDummyPrefix = true;
    boolean byteFallback;
    boolean nfkc;
    int unkId = -1, bosId = -1, eosId = -1;
    boolean addBos = true, addEos;

    BpeTokenizer build() {
        int n = pieces.length;
        Map<String, Integer> vocab = new HashMap<>(n * 2);
        for (int i = 0; i < n; i++) vocab.putIfAbsent(pieces[i], i);

        // Every split of a normal piece into two known pieces is a merge; rank = score of the result
        // (higher first), then ids, as HF's SentencePieceExtractor orders them.
        List<long[]> cands = new ArrayList<>(); // {mergedId, leftId, rightId}
        for (int id = 0; id < n; id++) {
            String p = pieces[id];
            if (types[id] != NORMAL || p.length() < 2) continue;
            for (int k = 1; k < p.length(); k++) {
                if (Character.isLowSurrogate(p.charAt(k))) continue;
                Integer l = vocab.get(p.substring(0, k)), r = vocab.get(p.substring(k));
                if (l != null && r != null) cands.add(new long[]{id, l, r});
            }
        }
        cands.sort(Comparator.<long[]>comparingDouble(c -> -scores[(int) c[0]])
                .thenComparingLong(c -> c[0]).thenComparingLong(c -> c[1]).thenComparingLong(c -> c[2]));
        Map<Long, Long> merges = new HashMap<>(cands.size() * 2);
        for (int rank = 0; rank < cands.size(); rank++) {
            long[] c = cands.get(rank);
            merges.putIfAbsent(BpeModel.pair((int) c[1], (int) c[2]), ((long) rank << 32) | c[0]);
        }

        BpeTokenizer.Spec s = new BpeTokenizer.Spec();
        s.source = source;
        s.model = new BpeModel(vocab, merges, byteFallback, unkId, true, false);
        s.idToToken = Arrays.copyOf(pieces, n);
        for (int i = 0; i < n; i++) {
            int t = types[i];
            if (t == CONTROL || t == UNKNOWN || t == USER_DEFINED) {
                s.added.add(new AddedTokens.Token(pieces[i], i, t != USER_DEFINED));
            }
        }
        if (nfkc) s.normalizer = t -> java.text.Normalizer.normalize(t, java.text.Normalizer.Form.NFKC);
        s.preTokenizer = new PreTokenizer.Metaspace('\u2581', addDummyPrefix ? "first" : "never", false);
        s.decoder.add(new DecodeStep.Replace("\u2581", " "));
        s.decoder.add(new DecodeStep.ByteFallback());
        s.decoder.add(new DecodeStep.Fuse());
        if (addDummyPrefix) s.decoder.add(new DecodeStep.Strip(' ', 1, 0));
        s.bos = bosId;
        s.eos = eosId;
        s.prefix = addBos && bosId >= 0 ? new int[]{bosId} : new int[0];
        s.suffix = addEos && eosId >= 0 ? new int[]{eosId} : new int[0];
        return new BpeTokenizer(s);
    }
}
