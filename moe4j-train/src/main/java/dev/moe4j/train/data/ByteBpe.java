package dev.moe4j.train.data;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Trains a GPT-2-style byte-level BPE vocabulary and writes it as a Hugging Face {@code tokenizer.json}, which moe4j,
 * transformers and llama.cpp's converter read. Ids 0–255 are the bytes in byte order, then one id per merge, then
 * {@code <|endoftext|>}. With no merges this is a plain byte tokenizer.
 */
public final class ByteBpe {
    public static final String EOS = "<|endoftext|>";
    static final Pattern GPT2 = Pattern.compile(
            "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+", Pattern.UNICODE_CHARACTER_CLASS);
    static final char[] BYTE_TO_CHAR = new char[256];

    static {   // GPT-2's printable image of every byte
        int extra = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            BYTE_TO_CHAR[b] = printable ? (char) b : (char) (256 + extra++);
        }
    }

    private final List<String> tokens = new ArrayList<>();     // id → byte-level string
    private final List<String[]> merges = new ArrayList<>();

    private ByteBpe() {
        for (int b = 0; b < 256; b++) tokens.add(String.valueOf(BYTE_TO_CHAR[b]));
    }

    /** The plain byte tokenizer: 256 byte tokens and the end-of-text token. */
    public static ByteBpe bytes() {
        return new ByteBpe();
    }

    /** Learns merges from {@code text} until the vocabulary (with the end-of-text token) has {@code vocabSize} entries. */
    public static ByteBpe train(String text, int vocabSize) {
        if (vocabSize < 257) throw new IllegalArgumentException("vocabulary size must be at least 257 (bytes + end-of-text), got " + vocabSize);
        ByteBpe bpe = new ByteBpe();
        Map<String, Integer> wordCounts = new HashMap<>();
        Matcher m = GPT2.matcher(text);
        while (m.find()) wordCounts.merge(m.group(), 1, Integer::sum);
        List<int[]> words = new ArrayList<>();
        List<Integer> counts = new ArrayList<>();
        for (var e : wordCounts.entrySet()) {
            byte[] b = e.getKey().getBytes(StandardCharsets.UTF_8);
            int[] ids = new int[b.length];
            for (int i = 0; i < b.length; i++) ids[i] = b[i] & 0xff;
            words.add(ids);
            counts.add(e.getValue());
        }
        while (bpe.tokens.size() + 1 < vocabSize) {
            Map<Long, Long> pairs = new HashMap<>();
            for (int w = 0; w < words.size(); w++) {
                int[] ids = words.get(w);
                for (int i = 0; i + 1 < ids.length; i++) pairs.merge(((long) ids[i] << 32) | ids[i + 1], (long) counts.get(w), Long::sum);
            }
            long best = -1, bestCount = 1;   // a pair seen once is not worth a token
            for (var e : pairs.entrySet()) {
                if (e.getValue() > bestCount || (e.getValue() == bestCount && best >= 0 && e.getKey() < best)) {
                    best = e.getKey();
                    bestCount = e.getValue();
                }
            }
            if (best < 0) break;
            int a = (int) (best >>> 32), b = (int) best, id = bpe.tokens.size();
            bpe.merges.add(new String[] {bpe.tokens.get(a), bpe.tokens.get(b)});
            bpe.tokens.add(bpe.tokens.get(a) + bpe.tokens.get(b));
            for (int w = 0; w < words.size(); w++) words.set(w, replace(words.get(w), a, b, id));
        }
        return bpe;
    }

    private static int[] replace(int[] ids, int a, int b, int id) {
        int n = 0;
        int[] out = new int[ids.length];
        for (int i = 0; i < ids.length; i++) {
            if (i + 1 < ids.length && ids[i] == a && ids[i + 1] == b) { out[n++] = id; i++; }
            else out[n++] = ids[i];
        }
        return n == ids.length ? ids : java.util.Arrays.copyOf(out, n);
    }

    public int vocabSize() { return tokens.size() + 1; }

    public int eosId() { return tokens.size(); }

    /** Byte-level strings of every token, end-of-text last (GGUF {@code tokenizer.ggml.tokens}). */
    public List<String> tokenStrings() {
        List<String> all = new ArrayList<>(tokens);
        all.add(EOS);
        return all;
    }

    /** Merges as "left right" (GGUF {@code tokenizer.ggml.merges}). */
    public List<String> mergeStrings() {
        List<String> out = new ArrayList<>();
        for (String[] m : merges) out.add(m[0] + " " + m[1]);
        return out;
    }

    /** The Hugging Face {@code tokenizer.json}. */
    public String tokenizerJson() {
        StringBuilder v = new StringBuilder();
        for (int i = 0; i < tokens.size(); i++) v.append(i == 0 ? "" : ",").append(JsonOut.str(tokens.get(i))).append(':').append(i);
        StringBuilder mj = new StringBuilder();
        for (int i = 0; i < merges.size(); i++) mj.append(i == 0 ? "" : ",").append(JsonOut.str(merges.get(i)[0] + " " + merges.get(i)[1]));
        String byteLevel = "{\"type\":\"ByteLevel\",\"add_prefix_space\":false,\"trim_offsets\":true,\"use_regex\":true}";
        return "{\"version\":\"1.0\",\"truncation\":null,\"padding\":null,"
                + "\"added_tokens\":[{\"id\":" + eosId() + ",\"content\":" + JsonOut.str(EOS)
                + ",\"single_word\":false,\"lstrip\":false,\"rstrip\":false,\"normalized\":false,\"special\":true}],"
                + "\"normalizer\":null,\"pre_tokenizer\":" + byteLevel + ",\"post_processor\":null,\"decoder\":" + byteLevel + ","
                + "\"model\":{\"type\":\"BPE\",\"dropout\":null,\"unk_token\":null,\"continuing_subword_prefix\":null,"
                + "\"end_of_word_suffix\":null,\"fuse_unk\":false,\"byte_fallback\":false,\"ignore_merges\":false,"
                + "\"vocab\":{" + v + "},\"merges\":[" + mj + "]}}";
    }

    /** The matching {@code tokenizer_config.json}: no BOS, end-of-text as EOS. */
    public String tokenizerConfigJson(int maxLength) {
        return "{\"tokenizer_class\":\"PreTrainedTokenizerFast\",\"bos_token\":null,\"eos_token\":" + JsonOut.str(EOS)
                + ",\"add_bos_token\":false,\"add_eos_token\":false,\"model_max_length\":" + maxLength + "}";
    }

    /** Rebuilds the vocabulary from a tokenizer.json this class wrote (for checkpoints and export after resume). */
    public static ByteBpe fromTokenizerJson(String json) {
        Map<String, Object> root = dev.moe4j.util.Json.parseObject(json);
        ByteBpe bpe = new ByteBpe();
        for (Object o : dev.moe4j.util.Json.arr(dev.moe4j.util.Json.obj(root.get("model")).get("merges"))) {
            String s = (String) o;
            int sp = s.indexOf(' ');
            bpe.merges.add(new String[] {s.substring(0, sp), s.substring(sp + 1)});
            bpe.tokens.add(s.substring(0, sp) + s.substring(sp + 1));
        }
        return bpe;
    }
}
