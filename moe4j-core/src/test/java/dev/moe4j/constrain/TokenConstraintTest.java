package dev.moe4j.constrain;

import dev.moe4j.util.Json;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TokenConstraintTest {
    static final String SCHEMA = """
            {"type":"object","properties":{
              "name":{"type":"string","maxLength":12},
              "age":{"type":"integer","minimum":0,"maximum":150},
              "tags":{"type":"array","items":{"enum":["red","green"]},"maxItems":3},
              "score":{"type":"number"},
              "nested":{"type":"object","properties":{"ok":{"type":"boolean"}},"required":["ok"],"additionalProperties":false}},
             "required":["name","age","tags"],"additionalProperties":false}""";

    /** Every single byte, JSON-ish multi-byte tokens and seeded random strings; the last id is EOS, one is "special". */
    static byte[][] vocabulary(int randomTokens, long seed) {
        List<byte[]> v = new ArrayList<>();
        for (int b = 0; b < 256; b++) v.add(new byte[]{(byte) b});
        for (String s : List.of("{\"", "\":", "\": ", "\",", "\"name", "name", "age", "tags", "true", "false", "null", " \"",
                "},", "123", "abc", "é", "red", "green", "\"]", "[\"", "\n  ", "  ", "\\n", "\\u00", "ok\":", "score\": 1.5}")) {
            v.add(s.getBytes(StandardCharsets.UTF_8));
        }
        v.add(new byte[]{(byte) 0xE2, (byte) 0x82});   // the first two bytes of €: a split character
        SplittableRandom r = new SplittableRandom(seed);
        String alphabet = "abcdefghijklmnopqrstuvwxyz ABCXYZ0123456789{}[]\":,.-_\\é€";
        for (int i = 0; i < randomTokens; i++) {
            StringBuilder s = new StringBuilder();
            for (int n = 1 + r.nextInt(7), k = 0; k < n; k++) s.append(alphabet.charAt(r.nextInt(alphabet.length())));
            v.add(s.toString().getBytes(StandardCharsets.UTF_8));
        }
        v.add(null);   // a special token: never allowed
        v.add(null);   // EOS
        return v.toArray(byte[][]::new);
    }

    /** Generates with random logits (a random-weight model's view) under the constraint; returns the text. */
    static String generate(TokenConstraint c, byte[][] vocab, int eos, int maxTokens, SplittableRandom r) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        float[] logits = new float[vocab.length];
        for (int step = 0; step < maxTokens && !c.finished(); step++) {
            for (int t = 0; t < logits.length; t++) logits[t] = (float) (r.nextGaussian() * 3);
            int allowed = c.mask(logits, 0, logits.length, maxTokens - step - 1);
            assertTrue(allowed > 0, "some token must stay allowed");
            int best = 0;
            for (int t = 1; t < logits.length; t++) if (logits[t] > logits[best]) best = t;
            c.accept(best);
            if (best == eos) break;
            out.writeBytes(vocab[best]);
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    @Test
    void randomLogitsAlwaysGiveValidJsonWithinTheTokenLimit() {
        byte[][] vocab = vocabulary(3000, 1);
        int eos = vocab.length - 1;
        TokenTrie trie = TokenTrie.of(vocab);
        Grammar g = JsonSchemaGrammar.schema(Json.parse(SCHEMA));
        SplittableRandom r = new SplittableRandom(42);
        for (int run = 0; run < 40; run++) {
            int maxTokens = 40 + run;
            TokenConstraint c = new TokenConstraint(g, trie, new int[]{eos});
            String text = generate(c, vocab, eos, maxTokens, r);
            assertTrue(c.complete(), "run " + run + " incomplete: " + text);
            Map<String, Object> o = Json.parseObject(text);
            assertInstanceOf(String.class, o.get("name"), text);
            assertTrue(((String) o.get("name")).codePointCount(0, ((String) o.get("name")).length()) <= 12, text);
            long age = (Long) o.get("age");
            assertTrue(age >= 0 && age <= 150, text);
            List<?> tags = (List<?>) o.get("tags");
            assertTrue(tags.size() <= 3 && tags.stream().allMatch(t -> t.equals("red") || t.equals("green")), text);
            if (o.containsKey("score")) assertInstanceOf(Number.class, o.get("score"), text);
            if (o.containsKey("nested")) assertInstanceOf(Boolean.class, ((Map<?, ?>) o.get("nested")).get("ok"), text);
            assertTrue(o.keySet().stream().allMatch(k -> List.of("name", "age", "tags", "score", "nested").contains(k)), text);
        }
    }

    @Test
    void anyObjectModeClosesEveryNestingWithinTheLimit() {
        byte[][] vocab = vocabulary(2000, 2);
        int eos = vocab.length - 1;
        TokenTrie trie = TokenTrie.of(vocab);
        Grammar g = JsonSchemaGrammar.anyObject();
        SplittableRandom r = new SplittableRandom(5);
        for (int run = 0; run < 30; run++) {
            TokenConstraint c = new TokenConstraint(g, trie, new int[]{eos});
            String text = generate(c, vocab, eos, 24, r);
            assertTrue(c.complete(), text);
            Json.parseObject(text);
        }
    }

    @Test
    void endTokensOnlyWhenCompleteAndDisallowedTokensThrow() {
        byte[][] vocab = vocabulary(0, 3);
        int eos = vocab.length - 1, special = vocab.length - 2;
        TokenConstraint c = new TokenConstraint(JsonSchemaGrammar.schema(Json.parse("{\"enum\":[\"ab\",\"abc\"]}")), TokenTrie.of(vocab), new int[]{eos});
        float[] logits = new float[vocab.length];
        assertEquals(1, c.mask(logits, 0, logits.length, Integer.MAX_VALUE));   // only the quote byte
        assertEquals(Float.NEGATIVE_INFINITY, logits[eos]);
        assertEquals(Float.NEGATIVE_INFINITY, logits[special]);
        assertEquals(0f, logits['"']);
        assertThrows(IllegalStateException.class, () -> c.accept(eos));
        assertThrows(IllegalStateException.class, () -> c.accept('x'));
        for (char ch : "\"ab\"".toCharArray()) c.accept(ch);
        assertTrue(c.complete());
        assertTrue(c.finished(), "nothing can follow a complete enum value");
        java.util.Arrays.fill(logits, 0f);
        assertEquals(1, c.mask(logits, 0, logits.length, Integer.MAX_VALUE));
        assertEquals(0f, logits[eos]);
    }

    @Test
    void theBudgetClosesAStringThatWouldRunOn() {
        byte[][] vocab = vocabulary(100, 4);
        int eos = vocab.length - 1;
        TokenConstraint c = new TokenConstraint(JsonSchemaGrammar.schema(Json.parse("{\"type\":\"array\",\"items\":{\"type\":\"string\"},\"minItems\":2}")),
                TokenTrie.of(vocab), new int[]{eos});
        // After ["abc the fewest bytes to a valid end are "," "] (5): with 4 tokens left after this one, the
        // string must close now.
        for (char ch : "[\"abc".toCharArray()) c.accept(ch);
        float[] logits = new float[vocab.length];
        c.mask(logits, 0, logits.length, 4);
        for (int t = 0; t < vocab.length; t++) {
            String token = vocab[t] == null ? "" : new String(vocab[t], StandardCharsets.UTF_8);
            if (logits[t] == 0f) assertTrue(token.contains("\""), "token '" + token + "' does not close the string, so cannot finish in time");
            else if (token.equals("\"") || token.equals("\",")) throw new AssertionError("token '" + token + "' closes in time but was masked");
        }
    }
}
