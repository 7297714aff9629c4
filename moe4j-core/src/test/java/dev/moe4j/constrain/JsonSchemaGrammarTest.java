package dev.moe4j.constrain;

import dev.moe4j.util.Json;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class JsonSchemaGrammarTest {
    private static final Map<Grammar, Automaton> AUTOMATA = new java.util.IdentityHashMap<>();

    /** Whether the grammar accepts exactly this text (one automaton per grammar, its transitions cached). */
    static boolean accepts(Grammar g, String text) {
        Automaton a = AUTOMATA.computeIfAbsent(g, Automaton::new);
        int s = a.start();
        for (byte x : text.getBytes(StandardCharsets.UTF_8)) {
            s = a.next(s, x & 0xFF);
            if (s == Automaton.DEAD) return false;
        }
        return a.accepting(s);
    }

    static Grammar schema(String json) {
        return JsonSchemaGrammar.schema(Json.parse(json));
    }

    @Test
    void objectsWithRequiredAndOptionalPropertiesInOrder() {
        Grammar g = schema("""
                {"type":"object","properties":{"name":{"type":"string"},"age":{"type":"integer"},"ok":{"type":"boolean"}},
                 "required":["name"],"additionalProperties":false}""");
        for (String ok : List.of("{\"name\":\"x\"}", "{ \"name\" : \"é\\n\", \"age\": -3 }", "{\"name\":\"\",\"ok\":true}",
                "{\"name\":\"a\",\"age\":0,\"ok\":false}", "{\n  \"name\": \"a\"\n}")) {
            assertTrue(accepts(g, ok), ok);
        }
        for (String bad : List.of("{}", "{\"age\":1}", "{\"name\":1}", "{\"name\":\"a\",}", "{\"name\":\"a\",\"age\":01}",
                "{\"name\":\"a\",\"extra\":1}", "{\"name\":\"a\"", "{\"ok\":true,\"name\":\"a\"}", "{\"name\":\"\u0001\"}",
                "{\"name\":\"\\ud800\"}", "{\"name\":\"a\",\"age\":1.5}")) {
            assertFalse(accepts(g, bad), bad);
        }
    }

    @Test
    void arraysEnumsConstsAnyOfAndRefs() {
        Grammar g = schema("""
                {"$defs":{"node":{"type":"object","properties":{"v":{"enum":["a",1,null]},"kids":{"type":"array","items":{"$ref":"#/$defs/node"},"maxItems":2}},
                 "required":["v"]}},
                 "anyOf":[{"$ref":"#/$defs/node"},{"type":"array","items":{"const":{"k":[true]}},"minItems":1,"maxItems":2}]}""");
        for (String ok : List.of("{\"v\":\"a\"}", "{\"v\":1,\"kids\":[{\"v\":null},{\"v\":\"a\",\"kids\":[]}]}",
                "[{\"k\":[true]}]", "[{\"k\":[true]}, {\"k\":[true]}]")) {
            assertTrue(accepts(g, ok), ok);
        }
        for (String bad : List.of("{\"v\":2}", "{\"v\":1,\"kids\":[{\"v\":1},{\"v\":1},{\"v\":1}]}", "[]",
                "[{\"k\":[true]},{\"k\":[true]},{\"k\":[true]}]", "[{\"k\":[false]}]")) {
            assertFalse(accepts(g, bad), bad);
        }
    }

    @Test
    void stringLengthsCountCharactersNotBytes() {
        Grammar g = schema("{\"type\":\"string\",\"minLength\":2,\"maxLength\":3}");
        assertTrue(accepts(g, "\"ab\""));
        assertTrue(accepts(g, "\"é€😀\""));
        assertTrue(accepts(g, "\"\\n\\u0041b\""));
        assertFalse(accepts(g, "\"a\""));
        assertFalse(accepts(g, "\"abcd\""));
    }

    @Test
    void integerRangesAcceptExactlyTheirMembers() {
        long[][] ranges = {{0, 0}, {-5, 5}, {1, 120}, {-1200, -7}, {37, 1004}, {-99, 0}, {10, 10}};
        for (long[] r : ranges) {
            Grammar g = schema("{\"type\":\"integer\",\"minimum\":" + r[0] + ",\"maximum\":" + r[1] + "}");
            for (long v = -1300; v <= 1300; v++) assertEquals(v >= r[0] && v <= r[1], accepts(g, Long.toString(v)), r[0] + ".." + r[1] + ": " + v);
            assertFalse(accepts(g, "-0"));
            assertFalse(accepts(g, "007"));
        }
        Grammar exclusive = schema("{\"type\":\"integer\",\"exclusiveMinimum\":0,\"exclusiveMaximum\":100}");
        assertFalse(accepts(exclusive, "0"));
        assertTrue(accepts(exclusive, "1"));
        assertTrue(accepts(exclusive, "99"));
        assertFalse(accepts(exclusive, "100"));
    }

    @Test
    void numbersFollowJsonSyntax() {
        Grammar g = schema("{\"type\":\"number\"}");
        for (String ok : List.of("0", "-0", "1.5", "-12.25e+3", "3E-7", "10")) assertTrue(accepts(g, ok), ok);
        for (String bad : List.of("01", "1.", ".5", "+1", "1e", "--1", "NaN")) assertFalse(accepts(g, bad), bad);
        Grammar nonNegative = schema("{\"type\":\"number\",\"minimum\":0}");
        assertTrue(accepts(nonNegative, "2.5"));
        assertFalse(accepts(nonNegative, "-2.5"));
    }

    @Test
    void patternsMatchAsJavaRegexDoesOnRandomStrings() {
        String[] patterns = {"^[a-c]{2,3}-\\d+$", "^(ab|c)*x?$", "^\\w+@\\w+\\.(com|org)$", "b.d", "^[^a-c]\\s?[0-9a-f]{2}$", "^a\\.b\"c$"};
        SplittableRandom r = new SplittableRandom(7);
        String alphabet = "abcdx-.@0129f \"éz";
        for (String p : patterns) {
            Grammar g = schema("{\"type\":\"string\",\"pattern\":" + JsonRules.literal(p) + "}");
            Pattern java = Pattern.compile(p);
            int matched = 0;
            for (int k = 0; k < 3000; k++) {
                StringBuilder s = new StringBuilder();
                int n = r.nextInt(8);
                for (int j = 0; j < n; j++) s.append(alphabet.charAt(r.nextInt(alphabet.length())));
                if (k % 3 == 0) s = new StringBuilder(example(p, r));
                boolean expect = java.matcher(s).find();
                matched += expect ? 1 : 0;
                assertEquals(expect, accepts(g, JsonRules.literal(s.toString())), p + " on " + s);
            }
            assertTrue(matched > 10, p + ": the test strings should include matches, got " + matched);
        }
    }

    /** Strings built to match the test patterns often (random strings rarely would). */
    private static String example(String p, SplittableRandom r) {
        String[] samples = {"ab-12", "abc-7", "ababc", "abx", "c", "me@host.org", "me@host.co", "bad", "xbzd", "d f3", "z1a", "a.b\"c", "a.bc"};
        return samples[r.nextInt(samples.length)];
    }

    @Test
    void unsupportedKeywordsAreRefusedByName() {
        Map<String, String> cases = Map.of(
                "{\"type\":\"string\",\"format\":\"date-time\"}", "format",
                "{\"type\":\"array\",\"uniqueItems\":true}", "uniqueItems",
                "{\"type\":\"object\",\"patternProperties\":{}}", "patternProperties",
                "{\"type\":\"number\",\"maximum\":3}", "maximum",
                "{\"allOf\":[{\"type\":\"string\"},{\"maxLength\":3}]}", "allOf",
                "{\"$ref\":\"https://example.com/s.json\"}", "$ref",
                "{\"$ref\":\"#/$defs/missing\"}", "$ref",
                "{\"type\":\"string\",\"pattern\":\"(?=a)\"}", "pattern",
                "{\"not\":{}}", "not",
                "{\"properties\":{\"a\":{\"type\":\"strin\"}}}", "type");
        for (Map.Entry<String, String> c : cases.entrySet()) {
            SchemaException e = assertThrows(SchemaException.class, () -> schema(c.getKey()), c.getKey());
            assertEquals(c.getValue(), e.keyword(), c.getKey() + ": " + e.getMessage());
            assertTrue(e.getMessage().contains(c.getValue()), e.getMessage());
        }
        StringBuilder huge = new StringBuilder("{\"type\":\"object\",\"properties\":{");
        for (int i = 0; i < 60; i++) huge.append(i == 0 ? "" : ",").append("\"p").append(i).append("\":{\"type\":\"string\",\"maxLength\":4096}");
        SchemaException tooLarge = assertThrows(SchemaException.class, () -> schema(huge.append("}}").toString()));
        assertTrue(tooLarge.getMessage().contains("too large"), tooLarge.getMessage());
        SchemaException nested = assertThrows(SchemaException.class, () -> schema("{\"properties\":{\"a/b\":{\"type\":\"integer\",\"multipleOf\":2}}}"));
        assertEquals("/properties/a~1b", nested.path());
    }

    @Test
    void sequencesForceTextAroundTheValue() {
        Grammar g = JsonSchemaGrammar.sequence(List.of(new JsonSchemaGrammar.Part.Text("<call>"),
                new JsonSchemaGrammar.Part.Choice(List.of(
                        List.of(new JsonSchemaGrammar.Part.Text("{\"name\":\"a\",\"arguments\":"),
                                new JsonSchemaGrammar.Part.Value(Json.parse("{\"type\":\"object\",\"properties\":{\"x\":{\"type\":\"integer\"}},\"required\":[\"x\"]}")),
                                new JsonSchemaGrammar.Part.Text("}")),
                        List.of(new JsonSchemaGrammar.Part.Text("{\"name\":\"b\",\"arguments\":{}}")))),
                new JsonSchemaGrammar.Part.Text("</call>")));
        assertTrue(accepts(g, "<call>{\"name\":\"a\",\"arguments\":{\"x\":4}}</call>"));
        assertTrue(accepts(g, "<call>{\"name\":\"b\",\"arguments\":{}}</call>"));
        assertFalse(accepts(g, "<call>{\"name\":\"a\",\"arguments\":{}}</call>"));
        assertFalse(accepts(g, "<call>{\"name\":\"b\",\"arguments\":{}}"));
        assertFalse(accepts(g, "<call> {\"name\":\"b\",\"arguments\":{}}</call>"));
    }
}
