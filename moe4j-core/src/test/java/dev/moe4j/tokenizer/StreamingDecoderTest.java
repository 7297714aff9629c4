package dev.moe4j.tokenizer;

import dev.moe4j.RefsLocator;
import dev.moe4j.generate.Generator;
import dev.moe4j.generate.SamplerSettings;
import dev.moe4j.model.Model;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What a streaming decoder emits, flush included, is exactly the one-shot decode of the same ids. */
class StreamingDecoderTest {

    /** Feeds every id and flushes; returns the concatenated output. */
    static String stream(TokenDecoder d, int[] ids) {
        StringBuilder sb = new StringBuilder();
        for (int id : ids) sb.append(d.next(id));
        return sb.append(d.flush()).toString();
    }

    private static Tokenizer load(String folder) {
        Path refs = RefsLocator.refs();
        Assumptions.assumeTrue(refs != null, "skipped: shared/refs is absent");
        return Tokenizers.fromHuggingFaceFolder(refs.resolve(folder));
    }

    /** Issue 13: a byte-fallback run that is not valid UTF-8 printed 0x14 as text and some bytes twice. */
    @Test
    void invalidByteFallbackRunIsReplacementCharactersOnly() {
        Tokenizer t = load("mixtral-tiny");
        int[] ids = {1, 356, 262, 418, 418, 432, 413, 428, 268, 431, 449, 13, 265, 267, 410, 337, 262, 408, 465, 268,
                259, 479, 281, 413, 423, 503, 408, 511};
        String oneShot = t.decode(ids, true);
        assertEquals(oneShot, stream(t.streamingDecoder(true), ids));
        assertEquals(t.decode(ids, false), stream(t.streamingDecoder(false), ids));
        assertFalse(oneShot.contains("\u0014"), HfOracleTest.show(oneShot));
    }

    @Test
    void textIsEmittedAsSoonAsNoLaterIdCanChangeIt() {
        Tokenizer q = load("qwen2moe-tiny");
        TokenDecoder d = q.streamingDecoder(true);
        for (int id : q.encode("hello world, again", false)) {
            assertEquals(q.decode(new int[] {id}), d.next(id), "whole characters come out with their token");
        }
        Tokenizer m = load("mixtral-tiny");
        int[] jp = m.encode("x 日本 y", false);            // 日本: six <0xNN> tokens
        TokenDecoder md = m.streamingDecoder(true);
        StringBuilder seen = new StringBuilder();
        for (int id : jp) {
            String piece = md.next(id);
            assertFalse(piece.contains("\uFFFD"), piece);
            seen.append(piece);
        }
        seen.append(md.flush());
        assertEquals("x 日本 y", seen.toString());
    }

    @Test
    void specialTokensAreSkippedUnlessAskedFor() {
        Tokenizer q = load("qwen2moe-tiny");
        int[] ids = q.encode("<|im_start|>assistant\nhi<|im_end|>", false);
        assertEquals("assistant\nhi", stream(q.streamingDecoder(), ids));
        assertEquals("<|im_start|>assistant\nhi<|im_end|>", stream(q.streamingDecoder(false), ids));
        assertEquals("assistant\nhi", q.decode(ids, true));
        Tokenizer m = load("mixtral-tiny");
        int[] withBos = m.encode("hello", true);
        assertEquals("hello", stream(m.streamingDecoder(true), withBos));
        assertEquals("<s> hello", m.decode(withBos, false), "Strip removes only the first token's space");
    }

    /** Random ids (specials, byte tokens, anything) on every reference tokenizer, both skip modes. */
    @TestFactory
    List<DynamicTest> randomIdsStreamLikeOneShot() {
        List<DynamicTest> tests = new ArrayList<>();
        for (Path f : HfOracle.referenceTokenizerFiles()) {
            tests.add(DynamicTest.dynamicTest(HfOracle.name(f), () -> {
                Tokenizer t = Tokenizers.fromHuggingFaceFolder(f.getParent());
                Random r = new Random(11);
                for (int i = 0; i < 500; i++) {
                    int[] ids = HfOracleTest.randomIds(t, r, 1 + r.nextInt(40));
                    for (boolean skip : new boolean[] {false, true}) {
                        assertEquals(t.decode(ids, skip), stream(t.streamingDecoder(skip), ids), Arrays.toString(ids));
                    }
                }
            }));
        }
        return tests;
    }

    /** 200 tokens sampled at temperature 1 from each reference checkpoint (every file it has), streamed. */
    @TestFactory
    List<DynamicTest> sampledGenerationsStreamLikeOneShot() throws Exception {
        Path refs = RefsLocator.refs();
        if (refs == null) return List.of();
        List<DynamicTest> tests = new ArrayList<>();
        try (Stream<Path> dirs = Files.list(refs)) {
            for (Path dir : dirs.filter(d -> Files.isRegularFile(d.resolve("config.json"))).sorted().toList()) {
                tests.add(DynamicTest.dynamicTest(dir.getFileName().toString(), () -> sampleAndCompare(dir)));
            }
        }
        return tests;
    }

    private static void sampleAndCompare(Path dir) {
        try (Model m = Model.load(dir)) {
            Tokenizer t = m.tokenizer();
            int[] prompt = t.encode("The quick brown fox", true);
            TokenDecoder[] decoders = {t.streamingDecoder(true), t.streamingDecoder(false)};
            StringBuilder[] streamed = {new StringBuilder(), new StringBuilder()};
            SamplerSettings temperature1 = new SamplerSettings(1f, 0, 1f, 0f, 1f, 64, 1);
            Generator.Result r = new Generator(m.transformer()).generate(prompt, 200, temperature1, Set.of(), id -> {
                for (int k = 0; k < 2; k++) streamed[k].append(decoders[k].next(id));
                return true;
            });
            int[] ids = r.tokens().stream().mapToInt(Integer::intValue).toArray();
            assertEquals(200, ids.length, "no stop tokens: all 200 are sampled");
            for (int k = 0; k < 2; k++) {
                streamed[k].append(decoders[k].flush());
                assertEquals(t.decode(ids, k == 0), streamed[k].toString(), dir + " " + Arrays.toString(ids));
            }
        }
    }

    @Test
    void lossyUtf8FollowsMaximalSubparts() {
        // Each maximal well-formed prefix that breaks off is one U+FFFD (Unicode §3.9, as Rust's from_utf8_lossy).
        assertEquals("a\uFFFDb", lossy(0x61, 0xe6, 0x97, 0x62));
        assertEquals("\uFFFD\uFFFD", lossy(0xc0, 0x80), "C0 cannot start a sequence: two replacements");
        assertEquals("\uFFFD\uFFFD\uFFFD", lossy(0xed, 0xa0, 0x80), "a surrogate's bytes: three");
        assertEquals("\uFFFD", lossy(0xf0, 0x9f, 0x99), "an unfinished 4-byte character: one");
        assertEquals("🙂", lossy(0xf0, 0x9f, 0x99, 0x82));
        Utf8.Decoded held = Utf8.decode(bytes(0x61, 0xf0, 0x9f), 0, 3, false);
        assertEquals("a", held.text());
        assertEquals(1, held.consumed(), "an unfinished character waits for more bytes");
        assertTrue(Utf8.valid(bytes(0xe6, 0x97, 0xa5), 0, 3));
        assertFalse(Utf8.valid(bytes(0xe6, 0x97), 0, 2));
    }

    private static String lossy(int... b) {
        byte[] a = bytes(b);
        return Utf8.lossy(a, 0, a.length);
    }

    private static byte[] bytes(int... b) {
        byte[] a = new byte[b.length];
        for (int i = 0; i < b.length; i++) a[i] = (byte) b[i];
        return a;
    }
}
