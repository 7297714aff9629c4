package dev.moe4j.serve;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.StreamResponse;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.completions.Completion;
import com.openai.models.completions.CompletionCreateParams;
import com.openai.models.models.Model;
import dev.moe4j.generate.ChatTemplate.Message;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The official OpenAI Java client against the real server: greedy output equals `moe4j generate`. */
class OpenAiClientTest {
    static TestServer s;
    static OpenAIClient client;

    @BeforeAll
    static void start() {
        s = TestServer.start("qwen2moe-tiny", "test-key", 4, 0, 0);
        client = OpenAIOkHttpClient.builder().baseUrl(s.baseUrl()).apiKey("test-key").maxRetries(0).build();
    }

    @AfterAll
    static void stop() {
        if (client != null) client.close();
        if (s != null) s.close();
    }

    @Test
    void completionEqualsGenerate() {
        Completion c = client.completions().create(CompletionCreateParams.builder()
                .model(s.id).prompt("The quick brown fox").maxTokens(24).temperature(0.0).build());
        assertEquals(s.greedyCompletion("The quick brown fox", 24), c.choices().get(0).text());
        assertTrue(c.usage().orElseThrow().completionTokens() > 0);
        assertEquals(c.usage().orElseThrow().promptTokens() + c.usage().orElseThrow().completionTokens(), c.usage().orElseThrow().totalTokens());
    }

    @Test
    void streamedCompletionEqualsGenerate() {
        StringBuilder text = new StringBuilder();
        String[] finish = new String[1];
        try (StreamResponse<Completion> stream = client.completions().createStreaming(CompletionCreateParams.builder()
                .model(s.id).prompt("Once upon a time").maxTokens(20).temperature(0.0).build())) {
            stream.stream().forEach(chunk -> chunk.choices().forEach(ch -> {
                text.append(ch.text());
                ch._finishReason().asKnown().ifPresent(f -> finish[0] = f.asString());
            }));
        }
        assertEquals(s.greedyCompletion("Once upon a time", 20), text.toString());
        assertTrue(finish[0].equals("stop") || finish[0].equals("length"), finish[0]);
    }

    @Test
    void chatWithHistoryEqualsGenerate() {
        List<Message> history = List.of(new Message("system", "You are terse."), new Message("user", "Hi there"),
                new Message("assistant", "Hello."), new Message("user", "What is an expert?"));
        ChatCompletion c = client.chat().completions().create(ChatCompletionCreateParams.builder().model(s.id)
                .addSystemMessage("You are terse.").addUserMessage("Hi there").addAssistantMessage("Hello.")
                .addUserMessage("What is an expert?").maxCompletionTokens(24).temperature(0.0).build());
        assertEquals(s.greedyChat(history, 24), c.choices().get(0).message().content().orElse(""));
        assertFalse(c.id().isEmpty());
    }

    @Test
    void streamedChatEqualsWholeChat() {
        ChatCompletionCreateParams p = ChatCompletionCreateParams.builder().model(s.id).addUserMessage("Tell me a story")
                .maxCompletionTokens(16).temperature(0.0).build();
        String whole = client.chat().completions().create(p).choices().get(0).message().content().orElse("");
        StringBuilder text = new StringBuilder();
        try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions().createStreaming(p)) {
            stream.stream().forEach(chunk -> chunk.choices().forEach(ch -> ch.delta().content().ifPresent(text::append)));
        }
        assertEquals(whole, text.toString());
        assertEquals(s.greedyChat(List.of(new Message("user", "Tell me a story")), 16), whole);
    }

    @Test
    void seededSamplingRepeats() {
        CompletionCreateParams p = CompletionCreateParams.builder().model(s.id).prompt("Seeds").maxTokens(12)
                .temperature(0.9).topP(0.9).seed(42).build();
        assertEquals(client.completions().create(p).choices().get(0).text(), client.completions().create(p).choices().get(0).text());
    }

    @Test
    void listsTheModel() {
        List<Model> models = client.models().list().data();
        assertEquals(1, models.size());
        assertEquals(s.id, models.get(0).id());
    }
}
