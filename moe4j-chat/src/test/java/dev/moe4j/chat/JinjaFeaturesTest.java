package dev.moe4j.chat;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.moe4j.generate.ChatTemplateException;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Jinja features chat templates rely on, each as a small template rendered by Python jinja2 with
 * transformers' conventions ({@code chat/features.json}; expected output in {@code chat/expected/features.json},
 * made with {@code scripts/chat-template-expected.py}'s environment): namespace(), slices, Python string methods,
 * loop variables, tests, filters, tojson, lstrip/trim_blocks, macros, raise_exception, strftime_now.
 */
class JinjaFeaturesTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void featuresRenderAsInJinja2() throws Exception {
        JsonNode expected = ChatTemplateRendersTest.resource("chat/expected/features.json");
        Map<String, Object> vars = JSON.convertValue(expected.get("variables"), new TypeReference<Map<String, Object>>() {});
        Clock clock = Clock.fixed(LocalDate.parse(expected.get("date").asText()).atStartOfDay().toInstant(ZoneOffset.UTC), ZoneOffset.UTC);
        List<String> failures = new ArrayList<>();
        for (JsonNode f : ChatTemplateRendersTest.resource("chat/features.json")) {
            String name = f.get("name").asText();
            JsonNode want = expected.get("renders").get(name);
            JinjaChatTemplate t = new JinjaChatTemplate(f.get("template").asText(), "", "", clock);
            try {
                String got = t.renderVariables(vars);
                if (want.has("error")) failures.add(name + ": jinja2 raised '" + want.get("error").asText() + "', moe4j rendered " + got);
                else if (!got.equals(want.get("text").asText())) failures.add(name + ": " + ChatTemplateRendersTest.firstDifference(got, want.get("text").asText()));
            } catch (ChatTemplateException e) {
                if (!want.has("error")) failures.add(name + ": " + e.getMessage());
                else if (!e.getMessage().contains(want.get("error").asText())) failures.add(name + ": message '" + e.getMessage() + "' does not quote the template's");
            }
        }
        assertTrue(failures.isEmpty(), String.join("\n", failures));
    }

    @Test
    void templateErrorsAreOneLineNamingTheLine() {
        JinjaChatTemplate broken = new JinjaChatTemplate("line one\n{% if %}", "", "", Clock.systemUTC());
        ChatTemplateException e = assertThrows(ChatTemplateException.class, () -> broken.renderVariables(Map.of()));
        assertTrue(e.getMessage().startsWith("chat template error (line 2)"), e.getMessage());
        assertEquals(-1, e.getMessage().indexOf('\n'), e.getMessage());
    }
}
