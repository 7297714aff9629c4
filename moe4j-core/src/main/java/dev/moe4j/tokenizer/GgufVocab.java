package dev.moe4j.tokenizer;

import dev.moe4j.util.Moe4jException;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Builds a tokenizer from GGUF {@code tokenizer.ggml.*} metadata ('llama' SentencePiece or 'gpt2' byte-level BPE). */
final class GgufVocab {
    private static final String K = "tokenizer.ggml.";

    private final Map<String, Object> md;
    private final String source;

    private GgufVocab(Map<String, Object> md, String source) {
        this.md = md;
        this.source = source;
    }

    static Tokenizer load(Map<String, Object> metadata, String source) {
        GgufVocab g = new GgufVocab(metadata, source);
        String model = g.string("model");
        return switch (model) {
            case "llama" -> g.llama();
            case "gpt2" -> g.gpt2();
            default -> throw new Moe4jException(source + ": " + K + "model '" + model
                    + "' is not supported (only 'llama' and 'gpt2')");
        };
    }

    private Tokenizer llama() {
        SpmVocab v = new SpmVocab();
        v.source = source;
        v.pieces = tokens();
        int n = v.pieces.length;
        v.scores = new float[n];
        List<Object> scores = list("scores", false);
        v.types = types(n);
        for (int i = 0; i < n; i++) {
            if (scores != null) v.scores[i] = ((Number) element(scores, i, "scores", Number.class)).floatValue();
            if (v.types[i] == SpmVocab.BYTE) v.byteFallback = true;
        }
        v.unkId = id("unknown_token_id", n);
        v.bosId = id("bos_token_id", n);
        v.eosId = id("eos_token_id", n);
        v.addBos = bool("add_bos_token", true);
        v.addEos = bool("add_eos_token", false);
        // Hugging Face's Llama/Mistral tokenizers always prepend '▁' (Metaspace, prepend_scheme "first"), but
        // llama.cpp's converter writes add_space_prefix=false for some of them (it copies the SentencePiece
        // model's add_dummy_prefix). moe4j matches Hugging Face, so it reads the key only to validate it.
        bool("add_space_prefix", true);
        v.addDummyPrefix = true;
        return v.build();
    }

    private Tokenizer gpt2() {
        String[] tokens = tokens();
        int n = tokens.length;
        int[] types = types(n);
        Map<String, Integer> vocab = new HashMap<>(n * 2);
        for (int i = 0; i < n; i++) vocab.putIfAbsent(tokens[i], i);
        List<Object> mergesList = list("merges", true);
        List<String[]> pairs = new ArrayList<>(mergesList.size());
        for (int i = 0; i < mergesList.size(); i++) {
            String m = (String) element(mergesList, i, "merges", String.class);
            int sp = m.indexOf(' ', 1);
            if (sp < 0) throw new Moe4jException(source + ": " + K + "merges[" + i + "] '" + m + "' is not 'left right'");
            pairs.add(new String[]{m.substring(0, sp), m.substring(sp + 1)});
        }
        String pre = md.get(K + "pre") instanceof String p ? p : "default";
        List<String> regexes = PRE_REGEXES.get(pre);
        if (regexes == null) throw new Moe4jException(source + ": " + K + "pre '" + pre + "' is not a supported pre-tokenizer");
        BpeTokenizer.Spec s = new BpeTokenizer.Spec();
        s.source = source;
        s.model = new BpeModel(vocab, BpeModel.mergesFromPairs(vocab, pairs, source), false, -1, false,
                IGNORE_MERGES.contains(pre));
        s.idToToken = tokens;
        for (int i = 0; i < n; i++) {
            if (types[i] == SpmVocab.CONTROL || types[i] == SpmVocab.USER_DEFINED) {
                s.added.add(new AddedTokens.Token(tokens[i], i, types[i] == SpmVocab.CONTROL));
            }
        }
        // Qwen's tokenizer.json files NFC-normalise first; GGUF has no normaliser field, the pre name implies it.
        if (NFC.contains(pre)) s.normalizer = t -> java.text.Normalizer.normalize(t, java.text.Normalizer.Form.NFC);
        List<PreTokenizer> steps = new ArrayList<>();
        for (String regex : regexes) {
            steps.add(new PreTokenizer.RegexSplit(PreTokenizer.compile(regex), false));
        }
        steps.add(new PreTokenizer.ByteLevelPre(false, null));
        s.preTokenizer = new PreTokenizer.Sequence(steps);
        s.decoder.add(new DecodeStep.ByteLevelDecode());
        s.bos = id("bos_token_id", n);
        s.eos = id("eos_token_id", n);
        s.prefix = bool("add_bos_token", false) && s.bos >= 0 ? new int[]{s.bos} : new int[0];
        s.suffix = bool("add_eos_token", false) && s.eos >= 0 ? new int[]{s.eos} : new int[0];
        return new BpeTokenizer(s);
    }

    /**
     * llama.cpp's pre-tokenizer names → the split regexes of the tokenizer.json they stand for (applied in
     * order); the first name of a list is what {@link GgufVocabExport} writes.
     */
    static final Map<String, List<String>> PRE_REGEXES = new java.util.LinkedHashMap<>();
    /** Names whose tokenizer.json sets ignore_merges (a word in the vocabulary is one token). */
    static final java.util.Set<String> IGNORE_MERGES = java.util.Set.of("llama-bpe", "llama3", "gpt-4o");
    /** Names whose tokenizer.json has an NFC normaliser. */
    static final java.util.Set<String> NFC = java.util.Set.of("qwen2", "deepseek-r1-qwen");

    static {
        for (String n : List.of("gpt-2", "default", "gpt2", "olmo", "mpt", "jais", "trillion")) PRE_REGEXES.put(n, List.of(PreTokenizer.GPT2_PATTERN));
        for (String n : List.of("qwen2", "deepseek-r1-qwen", "stablelm2", "hunyuan")) PRE_REGEXES.put(n, List.of(PreTokenizer.QWEN2_PATTERN));
        for (String n : List.of("llama-bpe", "llama3", "dbrx", "smaug-bpe", "falcon3", "pixtral")) PRE_REGEXES.put(n, List.of(PreTokenizer.LLAMA3_PATTERN));
        PRE_REGEXES.put("deepseek-v3", PreTokenizer.DEEPSEEK_V3_PATTERNS);
        PRE_REGEXES.put("gpt-4o", List.of(PreTokenizer.O200K_PATTERN));
    }

    /** The name llama.cpp gives these split regexes, or null when it has none. */
    static String preName(List<String> regexes) {
        for (var e : PRE_REGEXES.entrySet()) if (e.getValue().equals(regexes)) return e.getKey();
        return null;
    }

    private String[] tokens() {
        List<Object> l = list("tokens", true);
        String[] t = new String[l.size()];
        for (int i = 0; i < t.length; i++) t[i] = (String) element(l, i, "tokens", String.class);
        return t;
    }

    private int[] types(int n) {
        int[] t = new int[n];
        List<Object> l = list("token_type", false);
        if (l != null && l.size() != n) {
            throw new Moe4jException(source + ": " + K + "token_type has " + l.size() + " entries for " + n + " tokens");
        }
        for (int i = 0; i < n; i++) t[i] = l == null ? SpmVocab.NORMAL : ((Number) element(l, i, "token_type", Number.class)).intValue();
        return t;
    }

    private Object element(List<Object> l, int i, String key, Class<?> type) {
        Object o = l.get(i);
        if (!type.isInstance(o)) {
            throw new Moe4jException(source + ": " + K + key + "[" + i + "] is " + (o == null ? "null" : o.getClass().getSimpleName())
                    + ", expected " + type.getSimpleName());
        }
        return o;
    }

    private String string(String key) {
        Object o = md.get(K + key);
        if (!(o instanceof String s)) throw new Moe4jException(source + ": " + K + key + (o == null ? " is missing" : " is not a string"));
        return s;
    }

    @SuppressWarnings("unchecked")
    private List<Object> list(String key, boolean required) {
        Object o = md.get(K + key);
        if (o == null && !required) return null;
        if (!(o instanceof List<?> l)) throw new Moe4jException(source + ": " + K + key + (o == null ? " is missing" : " is not an array"));
        return (List<Object>) l;
    }

    private int id(String key, int n) {
        Object o = md.get(K + key);
        if (o == null) return -1;
        if (!(o instanceof Number num)) throw new Moe4jException(source + ": " + K + key + " is not an integer");
        long v = num.longValue();
        if (v < 0 || v >= n) throw new Moe4jException(source + ": " + K + key + " = " + v + " is outside the vocabulary of " + n);
        return (int) v;
    }

    private boolean bool(String key, boolean dflt) {
        Object o = md.get(K + key);
        if (o == null) return dflt;
        if (o instanceof Boolean b) return b;
        if (o instanceof Number num) return num.longValue() != 0;
        throw new Moe4jException(source + ": " + K + key + " is not a boolean");
    }

}
