package dev.moe4j.tokenizer;

import dev.moe4j.util.Moe4jException;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * The HF pipeline for BPE vocabularies: added-token split → normalizer → pre-tokenizer → BPE per word →
 * post-processor (BOS/EOS); decoding runs the decoder chain. Both SentencePiece-style (▁ + byte fallback) and
 * GPT-2 byte-level vocabularies are this class with different parts, built by the loaders.
 */
final class BpeTokenizer implements Tokenizer {
    /** What a loader fills in. */
    static final class Spec {
        String source;
        BpeModel model;
        String[] idToToken;
        List<AddedTokens.Token> added = new ArrayList<>();
        UnaryOperator<String> normalizer;
        PreTokenizer preTokenizer = PreTokenizer.IDENTITY;
        List<DecodeStep> decoder = new ArrayList<>();
        int[] prefix = new int[0];
        int[] suffix = new int[0];
        int bos = -1;
        int eos = -1;
    }

    private final String source;
    private final BpeModel model;
    private final String[] idToToken;
    private final boolean[] special;
    private final Map<String, Integer> specialTokens;
    private final AddedTokens added;            // matched in the raw text
    private final AddedTokens addedNormalized;  // matched in each normalised plain segment
    private final UnaryOperator<String> normalizer;
    private final PreTokenizer pre;
    private final List<DecodeStep> decoder;
    private final int[] prefix, suffix;
    private final int bos, eos;

    BpeTokenizer(Spec s) {
        this.source = s.source;
        this.model = s.model;
        this.idToToken = s.idToToken;
        this.special = new boolean[idToToken.length];
        Map<String, Integer> sp = new LinkedHashMap<>();
        for (AddedTokens.Token t : s.added) {
            if (t.id() < 0 || t.id() >= idToToken.length) {
                throw new Moe4jException(source + ": added token '" + t.content() + "' has id " + t.id()
                        + " outside the vocabulary of " + idToToken.length);
            }
            if (t.special()) { special[t.id()] = true; sp.put(t.content(), t.id()); }
        }
        this.specialTokens = Collections.unmodifiableMap(sp);
        this.added = new AddedTokens(s.added.stream().filter(t -> !t.normalized()).toList());
        this.addedNormalized = new AddedTokens(s.added.stream().filter(AddedTokens.Token::normalized).toList());
        this.normalizer = s.normalizer;
        this.pre = s.preTokenizer;
        this.decoder = List.copyOf(s.decoder);
        this.prefix = s.prefix;
        this.suffix = s.suffix;
        this.bos = s.bos;
        this.eos = s.eos;
    }

    @Override
    public int[] encode(String text, boolean addSpecial) {
        IntList out = new IntList();
        if (addSpecial) out.addAll(prefix);
        List<String> words = new ArrayList<>();
        for (AddedTokens.Segment seg : added.split(text, 0)) {
            if (seg.id() >= 0) { out.add(seg.id()); continue; }
            String t = normalizer == null ? seg.text() : normalizer.apply(seg.text());
            for (AddedTokens.Segment part : addedNormalized.split(t, seg.offset())) {
                if (part.id() >= 0) { out.add(part.id()); continue; }
                words.clear();
                pre.split(part.text(), part.offset() == 0, words);
                for (String w : words) model.encodeWord(w, out);
            }
        }
        if (addSpecial) out.addAll(suffix);
        return out.toArray();
    }

    @Override
    public String decode(int[] ids, boolean skipSpecial) {
        List<String> toks = new ArrayList<>(ids.length);
        for (int id : ids) {
            String t = tokenText(id);
            if (!(skipSpecial && special[id])) toks.add(t);
        }
        if (decoder.isEmpty()) return String.join(" ", toks); // HF joins with spaces when there is no decoder
        for (DecodeStep step : decoder) toks = step.apply(toks);
        return String.join("", toks);
    }

    /** The decoder chain (empty: tokens are joined with spaces). */
    List<DecodeStep> decoderSteps() {
        return decoder;
    }

    @Override
    public int vocabSize() {
        return idToToken.length;
    }

    @Override
    public int bosId() {
        return bos;
    }

    @Override
    public int eosId() {
        return eos;
    }

    @Override
    public String tokenText(int id) {
        if (id < 0 || id >= idToToken.length || idToToken[id] == null) {
            throw new Moe4jException(source + ": token id " + id + " is out of range for a vocabulary of "
                    + idToToken.length);
        }
        return idToToken[id];
    }

    @Override
    public byte[] tokenBytes(int id) {
        String t = tokenText(id);
        if (special[id]) return t.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        // The decoder chain applied to one token mid-text: Strip acts at the sequence start and Fuse only joins.
        for (DecodeStep step : decoder) {
            switch (step) {
                case DecodeStep.ByteFallback b -> {
                    int value = DecodeStep.ByteFallback.byteToken(t);
                    if (value >= 0) return new byte[]{(byte) value};
                }
                case DecodeStep.ByteLevelDecode b -> {
                    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
                    ByteLevel.decodeToken(t, out);
                    return out.toByteArray();
                }
                case DecodeStep.Replace r -> t = t.replace(r.from(), r.to());
                case DecodeStep.MetaspaceDecode m -> t = t.replace(m.replacement(), ' ');
                default -> { }
            }
        }
        return t.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }

    @Override
    public boolean isSpecial(int id) {
        return id >= 0 && id < special.length && special[id];
    }

    @Override
    public Map<String, Integer> specialTokens() {
        return specialTokens;
    }

    @Override
    public TokenDecoder streamingDecoder(boolean skipSpecial) {
        return new StreamingDecoder(this, skipSpecial);
    }

    @Override
    public String toString() {
        return "BpeTokenizer[" + source + ", vocab " + idToToken.length + "]";
    }
}
