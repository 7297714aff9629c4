package dev.moe4j.chat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.moe4j.generate.ChatRequest;
import dev.moe4j.generate.ChatTemplate;
import dev.moe4j.generate.ChatTemplateException;
import dev.moe4j.model.Model;
import dev.moe4j.util.Moe4jException;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Where a checkpoint's templates come from (string, named list, chat_template.jinja), which one a request uses, and the fallback. */
class ChatTemplatesTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final ChatRequest HI = ChatRequest.of(List.of(new ChatTemplate.Message("user", "hi")));

    @TempDir Path dir;

    private Path checkpoint(Object chatTemplate) throws IOException {
        Path p = Path.of("").toAbsolutePath();
        while (p != null && !Files.isDirectory(p.resolve("shared/refs/qwen3moe-tiny"))) p = p.getParent();
        Assumptions.assumeTrue(p != null, "shared/refs/qwen3moe-tiny not found above " + Path.of("").toAbsolutePath() + ": skipped");
        Path ref = p.resolve("shared/refs/qwen3moe-tiny");
        for (String f : List.of("config.json", "model.safetensors", "tokenizer.json")) Files.copy(ref.resolve(f), dir.resolve(f));
        Map<String, Object> config = new java.util.LinkedHashMap<>(Map.of("eos_token", "<|endoftext|>"));
        if (chatTemplate != null) config.put("chat_template", chatTemplate);
        JSON.writeValue(dir.resolve("tokenizer_config.json").toFile(), config);
        return dir;
    }

    @Test
    void namedTemplatesPickToolUseForTools() throws IOException {
        Path d = checkpoint(List.of(Map.of("name", "default", "template", "D{{ messages[0].content }}"),
                Map.of("name", "tool_use", "template", "T{{ tools | length }}")));
        try (Model m = Model.load(d)) {
            ChatTemplates t = ChatTemplates.of(m, Clock.systemUTC());
            assertTrue(t.fromCheckpoint());
            assertEquals("Dhi", t.select(false).render(HI));
            ChatRequest withTools = new ChatRequest(HI.messages(), List.of(Map.of("type", "function")), List.of(), true, false, Map.of());
            assertEquals("T1", t.select(true).render(withTools));
        }
    }

    @Test
    void chatTemplateJinjaFileWins() throws IOException {
        Path d = checkpoint("from tokenizer_config");
        Files.writeString(d.resolve("chat_template.jinja"), "<|im_start|>{{ messages[0].content }}");
        try (Model m = Model.load(d)) {
            ChatTemplates t = ChatTemplates.of(m, Clock.systemUTC());
            assertEquals("<|im_start|>hi", t.select(false).render(HI));
            assertEquals(ChatTemplate.CHATML, t.family());
        }
    }

    @Test
    void noTemplateFallsBackToPlainTranscript() throws IOException {
        try (Model m = Model.load(checkpoint(null))) {
            ChatTemplates t = ChatTemplates.of(m, Clock.systemUTC());
            assertFalse(t.fromCheckpoint());
            assertSame(ChatTemplate.PLAIN, t.select(true));
            assertEquals("User: hi\nAssistant:", t.select(false).render(HI));
        }
    }

    @Test
    void malformedTemplateListNamesTheField() throws IOException {
        Path d = checkpoint(List.of(Map.of("name", "default")));
        Moe4jException e = assertThrows(Moe4jException.class, () -> Model.load(d).close());
        assertTrue(e.getMessage().contains("tokenizer_config.json: field 'chat_template[0]'"), e.getMessage());
    }

    @Test
    void templateRefusalQuotesTheTemplate() {
        JinjaChatTemplate t = new JinjaChatTemplate("{% if messages | length < 2 %}{{ raise_exception('System message required') }}{% endif %}",
                "", "", Clock.systemUTC());
        ChatTemplateException e = assertThrows(ChatTemplateException.class, () -> t.render(HI));
        assertEquals("chat template error (line 1): System message required", e.getMessage());
    }

    /** A message is data, as in jinja2: "{{ ... }}" in it is text, never run as template code (Jinjava would by default). */
    @Test
    void templateSyntaxInsideMessagesIsText() {
        JinjaChatTemplate t = new JinjaChatTemplate("{% for m in messages %}[{{ m.content }}]{% endfor %}", "", "", Clock.systemUTC());
        String text = "Explain {{ user.name }} and {{ range(3) | join(',') }} {% if x %}in Vue{% endif %}";
        ChatRequest r = new ChatRequest(List.of(Map.of("role", "user", "content", text)), List.of(), List.of(), true, false, Map.of());
        assertEquals("[" + text + "]", t.render(r));
    }
}
