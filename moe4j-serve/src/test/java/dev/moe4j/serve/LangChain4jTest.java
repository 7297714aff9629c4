package dev.moe4j.serve;

import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.data.message.ChatMessage;
import dev.langchain4j.data.message.SystemMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.langchain4j.model.openai.OpenAiChatModel;
import dev.langchain4j.model.openai.OpenAiStreamingChatModel;
import dev.moe4j.generate.ChatTemplate.Message;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** LangChain4j's OpenAI module against the real server (a SentencePiece model this time). */
class LangChain4jTest {
    static TestServer s;

    @BeforeAll
    static void start() {
        s = TestServer.start("mixtral-tiny", null, 4, 0, 0);
    }

    @AfterAll
    static void stop() {
        if (s != null) s.close();
    }

    static final List<ChatMessage> HISTORY = List.of(SystemMessage.from("Be brief."), UserMessage.from("Name a colour."),
            AiMessage.from("Blue."), UserMessage.from("Another one?"));
    static final List<Message> SAME = List.of(new Message("system", "Be brief."), new Message("user", "Name a colour."),
            new Message("assistant", "Blue."), new Message("user", "Another one?"));

    @Test
    void chatWithHistoryEqualsGenerate() {
        OpenAiChatModel model = OpenAiChatModel.builder().baseUrl(s.baseUrl()).apiKey("unused").modelName(s.id)
                .temperature(0.0).maxTokens(20).maxRetries(0).build();
        ChatResponse r = model.chat(HISTORY);
        assertEquals(s.greedyChat(SAME, 20), r.aiMessage().text());
        assertEquals(20 >= r.tokenUsage().outputTokenCount(), true);
    }

    @Test
    void streamedChatEqualsGenerate() throws Exception {
        OpenAiStreamingChatModel model = OpenAiStreamingChatModel.builder().baseUrl(s.baseUrl()).apiKey("unused").modelName(s.id)
                .temperature(0.0).maxTokens(20).build();
        StringBuilder partial = new StringBuilder();
        CompletableFuture<ChatResponse> done = new CompletableFuture<>();
        model.chat(HISTORY, new StreamingChatResponseHandler() {
            @Override public void onPartialResponse(String text) { partial.append(text); }
            @Override public void onCompleteResponse(ChatResponse response) { done.complete(response); }
            @Override public void onError(Throwable error) { done.completeExceptionally(error); }
        });
        ChatResponse r = done.get(60, TimeUnit.SECONDS);
        String expected = s.greedyChat(SAME, 20);
        assertEquals(expected, partial.toString());
        assertEquals(expected, r.aiMessage().text());
    }
}
