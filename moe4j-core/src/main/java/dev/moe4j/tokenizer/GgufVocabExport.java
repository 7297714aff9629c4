package dev.moe4j.tokenizer;

import dev.moe4j.format.gguf.GgufType;
import dev.moe4j.format.gguf.GgufWriter;
import dev.moe4j.util.Json;
import dev.moe4j.util.Moe4jException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Writes a Hugging Face folder's tokenizer as GGUF {@code tokenizer.ggml.*} metadata, the way llama.cpp's
 * converter does: a byte-level BPE {@code tokenizer.json} as a 'gpt2' vocab (tokens, merges, token types,
 * pre-tokenizer name), a SentencePiece {@code tokenizer.model} as a 'llama' vocab (pieces, scores, types).
 * BOS/EOS ids and whether they are added come from moe4j's own reading of the folder, so
 * {@link Tokenizers#fromGgufMetadata} then gives the same ids as {@link Tokenizers#fromHuggingFaceFolder}.
 */
public final class GgufVocabExport {
    private static final String K = "tokenizer.ggml.";

    private GgufVocabExport() {}

    /**
     * Adds the vocab metadata, padded with unused "[PADn]" tokens up to the model's embedding rows (as
     * llama.cpp's converter does, since llama.cpp requires one token per row); a folder without a tokenizer
     * gets none (moe4j then loads the model without one).
     */
    public static void write(Path dir, GgufWriter w, int modelVocab) {
        Path json = dir.resolve("tokenizer.json"), spm = dir.resolve("tokenizer.model");
        if (!Files.exists(json) && !Files.exists(spm)) return;
        Tokenizer hf = Tokenizers.fromHuggingFaceFolder(dir);
        Map<String, Object> root = Files.isRegularFile(json) ? parse(json) : null;
        if (root != null && isByteLevel(root)) {
            gpt2(root, json, w, modelVocab);
        } else if (Files.isRegularFile(spm)) {
            llama(spm, w, modelVocab);
        } else {
            throw new Moe4jException(json + ": only byte-level BPE tokenizer.json (or a SentencePiece tokenizer.model) can be written as GGUF vocab");
        }
        int[] specials = hf.encode("", true);
        boolean addBos = hf.bosId() >= 0 && specials.length > 0 && specials[0] == hf.bosId();
        boolean addEos = hf.eosId() >= 0 && specials.length > 0 && specials[specials.length - 1] == hf.eosId();
        if (hf.bosId() >= 0) w.putUInt32(K + "bos_token_id", hf.bosId());
        if (hf.eosId() >= 0) w.putUInt32(K + "eos_token_id", hf.eosId());
        w.putBool(K + "add_bos_token", addBos);
        w.putBool(K + "add_eos_token", addEos && !(addBos && specials.length == 1));
    }

    private static boolean isByteLevel(Map<String, Object> root) {
        Map<String, Object> pre = Json.obj(root.get("pre_tokenizer"));
        return pre != null && strings(pre).contains("ByteLevel");
    }

    private static void gpt2(Map<String, Object> root, Path file, GgufWriter w, int modelVocab) {
        Map<String, Object> model = Json.obj(root.get("model"));
        String pre = preName(root, file);
        // GGUF has no field for these two; the pre-tokenizer name implies them when the vocab is read back.
        if (!normalizerImpliedBy(root.get("normalizer"), pre)) {
            throw new Moe4jException(file + ": normalizer: a byte-level tokenizer with this normalizer has no GGUF equivalent"
                    + " (pre-tokenizer '" + pre + "')");
        }
        if (Boolean.TRUE.equals(model.get("ignore_merges")) != GgufVocab.IGNORE_MERGES.contains(pre)) {
            throw new Moe4jException(file + ": model.ignore_merges " + model.get("ignore_merges")
                    + " has no GGUF equivalent with pre-tokenizer '" + pre + "'");
        }
        Map<String, Object> vocab = Json.obj(model.get("vocab"));
        List<Object> added = root.get("added_tokens") == null ? List.of() : Json.arr(root.get("added_tokens"));
        int size = 0;
        for (Object id : vocab.values()) size = Math.max(size, ((Number) id).intValue() + 1);
        for (Object o : added) size = Math.max(size, ((Number) Json.obj(o).get("id")).intValue() + 1);
        String[] tokens = new String[size];
        Integer[] types = new Integer[size];
        for (var e : vocab.entrySet()) {
            tokens[((Number) e.getValue()).intValue()] = e.getKey();
            types[((Number) e.getValue()).intValue()] = SpmVocab.NORMAL;
        }
        for (Object o : added) {
            Map<String, Object> t = Json.obj(o);
            int id = ((Number) t.get("id")).intValue();
            tokens[id] = (String) t.get("content");
            types[id] = Boolean.TRUE.equals(t.get("special")) ? SpmVocab.CONTROL : SpmVocab.USER_DEFINED;
        }
        for (int i = 0; i < size; i++) {
            if (tokens[i] == null) throw new Moe4jException(file + ": token id " + i + " is missing from the vocabulary");
        }
        List<String> merges = new ArrayList<>();
        for (Object m : Json.arr(model.get("merges"))) {
            merges.add(m instanceof List<?> l ? l.get(0) + " " + l.get(1) : (String) m);
        }
        w.putString(K + "model", "gpt2");
        w.putString(K + "pre", pre);
        List<String> tokenList = new ArrayList<>(List.of(tokens));
        List<Integer> typeList = new ArrayList<>(List.of(types));
        pad(tokenList, typeList, null, modelVocab, file);
        w.putArray(K + "tokens", GgufType.STRING, tokenList);
        w.putArray(K + "token_type", GgufType.INT32, typeList);
        w.putArray(K + "merges", GgufType.STRING, merges);
    }

    /** llama.cpp's name for the split regexes in front of the byte-level step. */
    private static String preName(Map<String, Object> root, Path file) {
        Map<String, Object> pre = Json.obj(root.get("pre_tokenizer"));
        List<Object> steps = "Sequence".equals(pre.get("type")) ? Json.arr(pre.get("pretokenizers")) : List.of(pre);
        List<String> regexes = new ArrayList<>();
        for (Object o : steps) {
            Map<String, Object> step = Json.obj(o);
            Map<String, Object> pattern = step == null ? null : Json.obj(step.get("pattern"));
            if (step != null && "Split".equals(step.get("type")) && pattern != null && pattern.get("Regex") instanceof String r
                    && "Isolated".equals(step.get("behavior")) && !Boolean.TRUE.equals(step.get("invert"))) {
                regexes.add(r);
            } else if (step != null && "ByteLevel".equals(step.get("type"))) {
                if (Boolean.TRUE.equals(step.get("add_prefix_space"))) throw new Moe4jException(file + ": pre_tokenizer: ByteLevel add_prefix_space has no GGUF equivalent");
                if (!Boolean.FALSE.equals(step.get("use_regex"))) regexes.add(PreTokenizer.GPT2_PATTERN);
            } else {
                throw new Moe4jException(file + ": pre_tokenizer: step " + (step == null ? o : step.get("type")) + " has no GGUF equivalent");
            }
        }
        String name = GgufVocab.preName(regexes);
        if (name == null) {
            throw new Moe4jException(file + ": pre_tokenizer has no llama.cpp pre-tokenizer name (known: "
                    + String.join(", ", new java.util.LinkedHashSet<>(List.of("gpt-2", "qwen2", "llama-bpe", "deepseek-v3", "gpt-4o"))) + ")");
        }
        return name;
    }

    /** Whether the normaliser is what the pre-tokenizer name implies when read back: NFC for Qwen's, else none. */
    private static boolean normalizerImpliedBy(Object normalizer, String pre) {
        Map<String, Object> n = Json.obj(normalizer);
        boolean none = n == null && normalizer == null
                || n != null && "Sequence".equals(n.get("type")) && Json.arr(n.get("normalizers")) instanceof List<?> l && l.isEmpty();
        if (none) return !GgufVocab.NFC.contains(pre);
        if (n == null) return false;
        return "NFC".equals(n.get("type")) && GgufVocab.NFC.contains(pre);
    }

    private static void pad(List<String> tokens, List<Integer> types, List<Float> scores, int modelVocab, Path file) {
        if (tokens.size() > modelVocab) {
            throw new Moe4jException(file + ": the tokenizer has " + tokens.size() + " tokens but the model only " + modelVocab + " embedding rows");
        }
        for (int i = tokens.size(); i < modelVocab; i++) {
            tokens.add("[PAD" + i + "]");
            types.add(SpmVocab.UNUSED);
            if (scores != null) scores.add(0f);
        }
    }

    private static void llama(Path spm, GgufWriter w, int modelVocab) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(spm);
        } catch (IOException e) {
            throw new Moe4jException(spm + ": cannot read: " + e.getMessage(), e);
        }
        SpmVocab v = SentencePieceModel.read(bytes, spm.toString());
        List<Float> scores = new ArrayList<>(v.pieces.length);
        List<Integer> types = new ArrayList<>(v.pieces.length);
        for (int i = 0; i < v.pieces.length; i++) {
            scores.add(v.scores[i]);
            types.add(v.types[i]);
        }
        List<String> pieces = new ArrayList<>(List.of(v.pieces));
        pad(pieces, types, scores, modelVocab, spm);
        w.putString(K + "model", "llama");
        w.putString(K + "pre", "default");
        w.putArray(K + "tokens", GgufType.STRING, pieces);
        w.putArray(K + "scores", GgufType.FLOAT32, scores);
        w.putArray(K + "token_type", GgufType.INT32, types);
        if (v.unkId >= 0) w.putUInt32(K + "unknown_token_id", v.unkId);
        // Hugging Face's Llama tokenizers prepend '▁' whatever the .model says; llama.cpp follows this key.
        w.putBool(K + "add_space_prefix", true);
    }

    /** Every string value in a parsed JSON tree (type names, regexes). */
    private static List<String> strings(Object o) {
        List<String> out = new ArrayList<>();
        collect(o, out);
        return out;
    }

    private static void collect(Object o, List<String> out) {
        if (o instanceof String s) out.add(s);
        else if (o instanceof Map<?, ?> m) m.values().forEach(v -> collect(v, out));
        else if (o instanceof List<?> l) l.forEach(v -> collect(v, out));
    }

    private static Map<String, Object> parse(Path file) {
        try {
            return Json.parseObject(Files.readString(file));
        } catch (IOException | IllegalArgumentException e) {
            throw new Moe4jException(file + ": " + e.getMessage(), e);
        }
    }
}
