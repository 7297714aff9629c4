package dev.moe4j.tokenizer;

import dev.moe4j.util.Moe4jException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Streaming decode, special tokens, errors and long inputs on the reference tokenizers. */
class TokenizerBehaviourTest {

    private static Tokenizer load(String folder) {
        return Tokenizers.fromHuggingFaceFolder(RefData.refsDir().resolve(folder));
    }

    private static List<String> stream(Tokenizer t, int[] ids) {
        TokenDecoder d = t.streamingDecoder();
        List<String> pieces = new ArrayList<>();
        for (int id : ids) pieces.add(d.next(id));
        pieces.add(d.flush());
        return pieces;
    }

    @Test
    void streamingHoldsBackSplitCharactersByteLevel() {
        Tokenizer t = load("qwen2moe-tiny");
        int[] ids = t.encode("東京 🙂", false);
        List<String> pieces = stream(t, ids);
        assertEquals("", pieces.get(0), "first byte of 東 alone is not a character");
        assertEquals("東京 🙂", String.join("", pieces));
        for (String p : pieces) assertFalse(p.contains("\uFFFD"), pieces.toString());
    }

    @Test
    void streamingHoldsBackSplitCharactersByteFallback() {
        Tokenizer t = load("mixtral-tiny");
        int[] ids = t.encode("x 日本 y", false); // 日本 is not in the vocabulary: six <0xNN> tokens
        assertTrue(t.tokenText(ids[ids.length - 4]).startsWith("<0x"), t.tokenText(ids[ids.length - 4]));
        List<String> pieces = stream(t, ids);
        assertEquals("x 日本 y", String.join("", pieces));
        assertEquals(t.decode(ids), String.join("", pieces));
        for (String p : pieces) assertFalse(p.contains("\uFFFD"), pieces.toString());
    }

    @Test
    void streamingMatchesDecodeOnPrompts() {
        for (String f : List.of("mixtral-tiny", "qwen2moe-tiny")) {
            Tokenizer t = load(f);
            String text = "def add(a, b):\n    return a + b  # café 🙂";
            int[] ids = t.encode(text, false);
            assertEquals(t.decode(ids), String.join("", stream(t, ids)), f);
        }
    }

    @Test
    void streamingDoesNotStallOnInvalidBytes() {
        Tokenizer t = load("mixtral-tiny");
        int lone = t.encode("日", false)[1]; // <0xE6>, never completed
        TokenDecoder d = t.streamingDecoder();
        assertEquals("", d.next(lone));
        assertEquals("\uFFFD", d.flush());
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 6; i++) sb.append(d.next(lone));
        sb.append(d.flush());
        assertEquals("\uFFFD".repeat(6), sb.toString());
    }

    @Test
    void badIdsAreReported() {
        Tokenizer t = load("mixtral-tiny");
        Moe4jException e = assertThrows(Moe4jException.class, () -> t.decode(new int[]{1, 512}));
        assertTrue(e.getMessage().contains("512"), e.getMessage());
        assertThrows(Moe4jException.class, () -> t.decode(new int[]{-1}));
        assertThrows(Moe4jException.class, () -> t.streamingDecoder().next(99999));
    }

    @Test
    void specialTokensAndIds() {
        Tokenizer m = load("mixtral-tiny");
        assertEquals(1, m.bosId());
        assertEquals(2, m.eosId());
        assertEquals(512, m.vocabSize());
        assertTrue(m.isSpecial(1));
        assertFalse(m.isSpecial(408));
        assertEquals(Map.of("<unk>", 0, "<s>", 1, "</s>", 2), m.specialTokens());
        assertArrayEquals(new int[]{1, 408}, m.encode("<s>▁", false), "no ▁ prepended after a special token");
        assertEquals(1, m.encode("<s>hi</s>", false)[0]);
        assertEquals(2, m.encode("<s>hi</s>", false)[m.encode("<s>hi</s>", false).length - 1]);

        Tokenizer q = load("qwen2moe-tiny");
        assertEquals(-1, q.bosId());
        assertEquals(0, q.eosId());
        assertEquals(Map.of("<|endoftext|>", 0, "<|im_start|>", 1, "<|im_end|>", 2), q.specialTokens());
        assertArrayEquals(q.encode("hi", false), q.encode("hi", true), "qwen adds no BOS");
        assertEquals("<|im_start|>", q.tokenText(1));
    }

    @Test
    void longInputsAreNotQuadratic() {
        String unit = "The quick brown fox jumps over the lazy dog. Über café naïve 東京 🙂 12345\n";
        String text = unit.repeat(3000); // ~220k chars; SentencePiece sees it as a single word
        for (String f : List.of("mixtral-tiny", "qwen2moe-tiny")) {
            Tokenizer t = load(f);
            int[] ids = assertTimeoutPreemptively(java.time.Duration.ofSeconds(20), () -> t.encode(text, false));
            assertEquals(text, t.decode(ids), f);
            int[] one = t.encode(unit, false);
            assertTrue(ids.length >= one.length * 2900L, f + " " + ids.length);
        }
    }

    @Test
    void loadErrorsNameTheFileAndField(@TempDir Path dir) throws Exception {
        Moe4jException e = assertThrows(Moe4jException.class, () -> Tokenizers.fromHuggingFaceFolder(dir));
        assertTrue(e.getMessage().contains("tokenizer.json"), e.getMessage());

        Files.writeString(dir.resolve("tokenizer.json"), "{\"model\": {\"type\": \"Unigram\", \"vocab\": []}}");
        e = assertThrows(Moe4jException.class, () -> Tokenizers.fromHuggingFaceFolder(dir));
        assertTrue(e.getMessage().contains("tokenizer.json") && e.getMessage().contains("model.type"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));

        Files.writeString(dir.resolve("tokenizer.json"), "{\"model\": {\"type\": \"BPE\", ");
        e = assertThrows(Moe4jException.class, () -> Tokenizers.fromHuggingFaceFolder(dir));
        assertTrue(e.getMessage().contains("tokenizer.json"), e.getMessage());

        Files.writeString(dir.resolve("tokenizer.json"),
                "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": []}, \"pre_tokenizer\": {\"type\": \"Whatever\"}}");
        e = assertThrows(Moe4jException.class, () -> Tokenizers.fromHuggingFaceFolder(dir));
        assertTrue(e.getMessage().contains("pre_tokenizer.type"), e.getMessage());

        e = assertThrows(Moe4jException.class, () -> Tokenizers.fromSentencePieceModel(dir.resolve("nope.model")));
        assertTrue(e.getMessage().contains("nope.model"), e.getMessage());

        Files.write(dir.resolve("bad.model"), new byte[]{0x0a, 0x7f, 0x01});
        e = assertThrows(Moe4jException.class, () -> Tokenizers.fromSentencePieceModel(dir.resolve("bad.model")));
        assertTrue(e.getMessage().contains("bad.model"), e.getMessage());
    }

    @Test
    void ggufErrorsNameTheKey() {
        Moe4jException e = assertThrows(Moe4jException.class,
                () -> Tokenizers.fromGgufMetadata(Map.of("tokenizer.ggml.model", "bert"), "x.gguf"));
        assertTrue(e.getMessage().contains("x.gguf") && e.getMessage().contains("tokenizer.ggml.model"), e.getMessage());
        e = assertThrows(Moe4jException.class,
                () -> Tokenizers.fromGgufMetadata(Map.of("tokenizer.ggml.model", "gpt2"), "x.gguf"));
        assertTrue(e.getMessage().contains("tokenizer.ggml.tokens"), e.getMessage());
        Map<String, Object> md = new java.util.HashMap<>(
                ReferenceTokenizerTest.gpt2Metadata(RefData.refsDir().resolve("qwen2moe-tiny/tokenizer.json")));
        md.put("tokenizer.ggml.pre", "no-such-pre");
        e = assertThrows(Moe4jException.class, () -> Tokenizers.fromGgufMetadata(md, "x.gguf"));
        assertTrue(e.getMessage().contains("tokenizer.ggml.pre"), e.getMessage());
    }

    @Test
    void ggufAddBosIsHonoured() {
        Map<String, Object> md = new java.util.HashMap<>(
                ReferenceTokenizerTest.gpt2Metadata(RefData.refsDir().resolve("qwen2moe-tiny/tokenizer.json")));
        md.put("tokenizer.ggml.add_bos_token", Boolean.TRUE);
        Tokenizer t = Tokenizers.fromGgufMetadata(md, "x.gguf");
        assertEquals(0, t.encode("hi", true)[0]);
        assertTrue(t.isSpecial(1));
    }
}
