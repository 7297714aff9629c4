package dev.moe4j.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code response_format} on a random-weight reference checkpoint: every generation parses and validates against
 * its schema (checked with networknt's json-schema-validator, an independent implementation), including ones cut
 * by {@code max_tokens}; unsupported schema keywords are a 400 naming them.
 */
class StructuredOutputTest {
    static final String SCHEMA = """
            {"type":"object","properties":{
              "name":{"type":"string","maxLength":20},
              "age":{"type":"integer","minimum":0,"maximum":120},
              "email":{"type":"string","pattern":"^[a-z]+@[a-z]+\\\\.(com|org)$"},
              "tags":{"type":"array","items":{"enum":["red","green","blue"]},"minItems":1,"maxItems":3},
              "score":{"anyOf":[{"type":"number"},{"type":"null"}]},
              "address":{"$ref":"#/$defs/address"}},
             "required":["name","age","tags","address"],"additionalProperties":false,
             "$defs":{"address":{"type":"object","properties":{"city":{"type":"string"},"zip":{"type":"string","minLength":5,"maxLength":5}},
               "required":["city"],"additionalProperties":false}}}""";

    static TestServer s;

    @BeforeAll
    static void start() {
        s = TestServer.start("qwen2moe-tiny", null, 8, 64, 0);
    }

    @AfterAll
    static void stop() {
        if (s != null) s.close();
    }

    static ErrorsTest.Reply post(String path, String body) throws Exception {
        return SseEvents.post(s, path, body);
    }

    static String chat(String extra) {
        return "{\"model\":\"" + s.id + "\",\"messages\":[{\"role\":\"user\",\"content\":\"Describe a person as JSON.\"}]" + extra + "}";
    }

    @Test
    void fiftyGenerationsFromRandomWeightsAllValidateAgainstTheSchema() throws Exception {
        Schema validator = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12).getSchema(SCHEMA);
        String format = ",\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"person\",\"strict\":true,\"schema\":" + SCHEMA + "}}";
        Set<String> distinct = new HashSet<>();
        int checked = 0;
        for (int request = 0; request < 5; request++) {
            // 10 choices per request, decoded in one batch; max_tokens between 70 and 110 so some values are closed by the budget
            ErrorsTest.Reply r = post("/chat/completions", chat(format + ",\"n\":10,\"temperature\":1.0,\"seed\":" + (100 + request)
                    + ",\"max_tokens\":" + (70 + 10 * request)));
            assertEquals(200, r.status(), r.body().toString());
            JsonNode choices = r.body().get("choices");
            assertEquals(10, choices.size());
            for (JsonNode c : choices) {
                String text = c.at("/message/content").asText();
                var errors = validator.validate(text, com.networknt.schema.InputFormat.JSON);
                assertTrue(errors.isEmpty(), "invalid against the schema: " + text + " " + errors);
                assertEquals("stop", c.get("finish_reason").asText(), text);
                distinct.add(text);
                checked++;
            }
        }
        assertEquals(50, checked);
        assertTrue(distinct.size() > 40, "random weights give different values: " + distinct.size() + " distinct of 50");
    }

    @Test
    void jsonObjectModeGivesObjectsOnCompletionsAndStreamsToo() throws Exception {
        for (int seed = 0; seed < 6; seed++) {
            ErrorsTest.Reply r = post("/completions", "{\"model\":\"" + s.id + "\",\"prompt\":\"JSON:\",\"max_tokens\":30,\"seed\":" + seed
                    + ",\"response_format\":{\"type\":\"json_object\"}}");
            assertEquals(200, r.status(), r.body().toString());
            String text = r.body().at("/choices/0/text").asText();
            assertTrue(Json.MAPPER.readTree(text).isObject(), text);
        }
        String streamed = SseEvents.text(s, "/completions", "{\"model\":\"" + s.id + "\",\"prompt\":\"JSON:\",\"max_tokens\":25,\"seed\":3,\"stream\":true,"
                + "\"response_format\":{\"type\":\"json_object\"}}", 0);
        assertTrue(Json.MAPPER.readTree(streamed).isObject(), streamed);
    }

    @Test
    void unsupportedSchemaKeywordsAndBadFormatsAre400NamingThem() throws Exception {
        String[][] cases = {
                {"{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"x\",\"schema\":{\"type\":\"string\",\"format\":\"email\"}}}", "format"},
                {"{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"x\",\"schema\":{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"integer\",\"multipleOf\":3}}}}}", "multipleOf"},
                {"{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"x\",\"schema\":{\"not\":{}}}}", "not"},
                {"{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"x\",\"schema\":{\"$ref\":\"#/$defs/nope\"}}}", "$ref"},
                {"{\"type\":\"json_schema\",\"json_schema\":{\"schema\":{}}}", "name"},
                {"{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"x\",\"schema\":{},\"extra\":1}}", "extra"},
                {"{\"type\":\"yaml\"}", "response_format.type"},
                {"\"json\"", "response_format"},
                // nested deeper than the JSON reader of the schema compiler takes: a 400, not a 500
                {"{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"x\",\"schema\":" + "{\"items\":".repeat(200) + "{}"
                        + "}".repeat(200) + "}}", "nesting"}};
        for (String[] c : cases) {
            ErrorsTest.Reply r = post("/chat/completions", chat(",\"response_format\":" + c[0]));
            assertEquals(400, r.status(), c[0] + " → " + r.body());
            String message = r.body().at("/error/message").asText();
            assertTrue(message.contains(c[1]), message);
            assertTrue(r.body().at("/error/param").asText().startsWith("response_format"), r.body().toString());
        }
    }
}
