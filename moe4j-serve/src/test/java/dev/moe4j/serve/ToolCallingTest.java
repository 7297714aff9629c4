package dev.moe4j.serve;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.JsonValue;
import com.openai.core.http.StreamResponse;
import com.openai.models.FunctionDefinition;
import com.openai.models.FunctionParameters;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionMessageFunctionToolCall;
import com.openai.models.chat.completions.ChatCompletionToolMessageParam;
import dev.langchain4j.agent.tool.P;
import dev.langchain4j.agent.tool.Tool;
import dev.langchain4j.model.openai.OpenAiChatModel;
import dev.langchain4j.service.AiServices;
import dev.moe4j.model.Model;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Tool-calling round trips through the server with the official OpenAI Java client and LangChain4j's
 * {@code @Tool} AI services.
 *
 * <p>How the round trip is made deterministic: the reference checkpoint (qwen2moe-tiny, copied with a short
 * Hermes-style ChatML template added, {@code chat/tool-template.jinja}) has random weights and would never
 * write a tool call itself. The server is started with a {@link ReplyScript}: the engine runs the model for every
 * token as usual but replaces each sampled token with the script's next one. The script answers from the
 * rendered prompt alone: while the prompt holds no tool result it writes a {@code <tool_call>} for the tool
 * and parameter names it finds in the prompt, afterwards a sentence quoting the tool's result. Everything else
 * is the real path: request parsing, the Jinja template (tools, assistant tool calls and tool results in
 * history), tokenisation, the engine, the reply parser and OpenAI's response shapes, whole and streamed.
 */
class ToolCallingTest {
    static Path dir;
    static Model model;
    static OpenAiServer server;
    static OpenAIClient client;
    static final List<String> prompts = new CopyOnWriteArrayList<>();

    /** The script: a call of the offered tool, or, once the prompt holds the tool's result, an answer quoting it. */
    static String reply(String prompt) {
        prompts.add(prompt);
        Matcher result = Pattern.compile("<tool_response>(.*?)</tool_response>").matcher(prompt);
        String last = null;
        while (result.find()) last = result.group(1);
        if (last != null) return "The tool says: " + last;
        if (prompt.contains("Think first.")) return "<think>\nFirst a plan.\n</think>\n\nThe answer.";
        Matcher tool = Pattern.compile("Tools: (\\w+)\\((\\w+)\\)").matcher(prompt);
        if (!tool.find()) return "No tools.";
        if (prompt.contains("Both cities")) {
            return "<tool_call>{\"name\": \"" + tool.group(1) + "\", \"arguments\": {\"" + tool.group(2) + "\": \"Paris\"}}</tool_call>"
                    + "<tool_call>{\"name\": \"" + tool.group(1) + "\", \"arguments\": {\"" + tool.group(2) + "\": \"Rome\"}}</tool_call>";
        }
        return "<tool_call>{\"name\": \"" + tool.group(1) + "\", \"arguments\": {\"" + tool.group(2) + "\": \"Paris\"}}</tool_call>";
    }

    @BeforeAll
    static void start() throws IOException {
        Path ref = TestServer.refs("qwen2moe-tiny");
        dir = Files.createTempDirectory("moe4j-tools");
        for (String f : List.of("config.json", "model.safetensors", "tokenizer.json", "generation_config.json")) {
            Files.copy(ref.resolve(f), dir.resolve(f));
        }
        String template;
        try (InputStream in = ToolCallingTest.class.getClassLoader().getResourceAsStream("chat/tool-template.jinja")) {
            template = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        Files.writeString(dir.resolve("tokenizer_config.json"), Json.write(Json.object().put("chat_template", template)));
        model = Model.load(dir);
        server = OpenAiServer.start(model, new ServerOptions("127.0.0.1", 0, null, 4, 0, "tools-tiny", 0), ToolCallingTest::reply);
        client = OpenAIOkHttpClient.builder().baseUrl("http://127.0.0.1:" + server.port() + "/v1").apiKey("unused").maxRetries(0).build();
    }

    @AfterAll
    static void stop() throws IOException {
        if (client != null) client.close();
        if (server != null) server.close();
        if (model != null) model.close();
        if (dir != null) {
            try (Stream<Path> s = Files.walk(dir)) {
                for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
            }
        }
    }

    static FunctionDefinition weather() {
        return FunctionDefinition.builder().name("get_weather").description("Current weather")
                .parameters(FunctionParameters.builder()
                        .putAdditionalProperty("type", JsonValue.from("object"))
                        .putAdditionalProperty("properties", JsonValue.from(Map.of("city", Map.of("type", "string"))))
                        .putAdditionalProperty("required", JsonValue.from(List.of("city")))
                        .build())
                .build();
    }

    @Test
    void openAiClientRoundTrip() {
        ChatCompletionCreateParams.Builder params = ChatCompletionCreateParams.builder().model("tools-tiny")
                .addUserMessage("Weather in Paris?").addFunctionTool(weather()).temperature(0.0);
        ChatCompletion first = client.chat().completions().create(params.build());
        ChatCompletion.Choice choice = first.choices().getFirst();
        assertEquals("tool_calls", choice.finishReason().asString());
        assertFalse(choice.message().content().isPresent(), "content is null when the reply is only a tool call");
        ChatCompletionMessageFunctionToolCall call = choice.message().toolCalls().orElseThrow().getFirst().asFunction();
        assertEquals("get_weather", call.function().name());
        assertEquals("{\"city\":\"Paris\"}", call.function().arguments());

        // Send the assistant's tool call back with the tool's result: the template renders both into the prompt.
        params.addMessage(choice.message()).addMessage(ChatCompletionToolMessageParam.builder()
                .toolCallId(call.id()).content("18 C, clear").build());
        ChatCompletion second = client.chat().completions().create(params.build());
        assertEquals("stop", second.choices().getFirst().finishReason().asString());
        assertEquals("The tool says: 18 C, clear", second.choices().getFirst().message().content().orElseThrow());
        String prompt = prompts.getLast();
        assertTrue(prompt.contains("<tool_call>{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}</tool_call>"), prompt);
    }

    @Test
    void streamedToolCall() {
        List<String> names = new ArrayList<>(), arguments = new ArrayList<>(), finish = new ArrayList<>();
        StringBuilder content = new StringBuilder();
        try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions().createStreaming(ChatCompletionCreateParams.builder()
                .model("tools-tiny").addUserMessage("Weather?").addFunctionTool(weather()).build())) {
            stream.stream().forEach(chunk -> chunk.choices().forEach(ch -> {
                ch.delta().content().ifPresent(content::append);
                ch.delta().toolCalls().ifPresent(calls -> calls.forEach(c -> c.function().ifPresent(f -> {
                    f.name().ifPresent(names::add);
                    f.arguments().ifPresent(arguments::add);
                })));
                ch.finishReason().ifPresent(f -> finish.add(f.asString()));
            }));
        }
        assertEquals(List.of("get_weather"), names);
        assertEquals(List.of("{\"city\":\"Paris\"}"), arguments);
        assertEquals("", content.toString(), "tool-call syntax is never streamed as content");
        assertEquals(List.of("tool_calls"), finish);
    }

    @Test
    void reasoningContentIsSeparated() throws Exception {
        String body = "{\"model\":\"tools-tiny\",\"messages\":[{\"role\":\"user\",\"content\":\"Think first.\"}]";
        java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
        String url = "http://127.0.0.1:" + server.port() + "/v1/chat/completions";
        var whole = Json.MAPPER.readTree(http.send(post(url, body + "}"), java.net.http.HttpResponse.BodyHandlers.ofString()).body());
        var message = whole.path("choices").path(0).path("message");
        assertEquals("First a plan.\n", message.path("reasoning_content").asText(), whole.toString());
        assertEquals("The answer.", message.path("content").asText(), whole.toString());

        String sse = http.send(post(url, body + ",\"stream\":true}"), java.net.http.HttpResponse.BodyHandlers.ofString()).body();
        StringBuilder reasoning = new StringBuilder(), content = new StringBuilder();
        for (String line : sse.split("\n")) {
            if (!line.startsWith("data: {")) continue;
            var delta = Json.MAPPER.readTree(line.substring(6)).path("choices").path(0).path("delta");
            if (delta.has("reasoning_content")) reasoning.append(delta.get("reasoning_content").asText());
            if (delta.has("content")) content.append(delta.get("content").asText());
        }
        assertEquals("First a plan.\n", reasoning.toString(), sse);
        assertEquals("The answer.", content.toString(), sse);
    }

    @Test
    void parallelToolCallsFalseKeepsTheFirst() throws Exception {
        java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
        String url = "http://127.0.0.1:" + server.port() + "/v1/chat/completions";
        String base = "{\"model\":\"tools-tiny\",\"messages\":[{\"role\":\"user\",\"content\":\"Both cities?\"}],"
                + "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"parameters\":{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"}}}}}]";
        var both = Json.MAPPER.readTree(http.send(post(url, base + "}"), java.net.http.HttpResponse.BodyHandlers.ofString()).body());
        var calls = both.path("choices").path(0).path("message").path("tool_calls");
        assertEquals(2, calls.size(), both.toString());
        assertEquals("{\"city\":\"Rome\"}", calls.path(1).path("function").path("arguments").asText());
        assertTrue(!calls.path(0).path("id").asText().equals(calls.path(1).path("id").asText()), "each call has its own id");
        var one = Json.MAPPER.readTree(http.send(post(url, base + ",\"parallel_tool_calls\":false}"), java.net.http.HttpResponse.BodyHandlers.ofString()).body());
        var single = one.path("choices").path(0).path("message").path("tool_calls");
        assertEquals(1, single.size(), one.toString());
        assertEquals("{\"city\":\"Paris\"}", single.path(0).path("function").path("arguments").asText());
    }

    @Test
    void templateAndToolErrorsAre400s() throws Exception {
        java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
        String url = "http://127.0.0.1:" + server.port() + "/v1/chat/completions";
        String[][] cases = {
                // tool_choice naming a function that is not offered
                {"{\"model\":\"tools-tiny\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\"}}],\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":\"g\"}}}", "tool_choice"},
                {"{\"model\":\"tools-tiny\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"tool_choice\":\"sometimes\"}", "tool_choice"},
                {"{\"model\":\"tools-tiny\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"tools\":[{\"type\":\"function\"}]}", "tools[0].function"},
                {"{\"model\":\"tools-tiny\",\"messages\":[{\"role\":\"tool\",\"content\":\"x\"}]}", "messages[0].tool_call_id"},
                {"{\"model\":\"tools-tiny\",\"messages\":[{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":\"a\",\"type\":\"function\",\"function\":{\"name\":\"f\",\"arguments\":\"{not json\"}}]}]}", "messages[0].tool_calls[0].function.arguments"},
                {"{\"model\":\"tools-tiny\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"chat_template_kwargs\":[1]}", "chat_template_kwargs"},
                {"{\"model\":\"tools-tiny\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"continue_final_message\":true}", "continue_final_message"},
        };
        for (String[] c : cases) {
            var r = http.send(post(url, c[0]), java.net.http.HttpResponse.BodyHandlers.ofString());
            assertEquals(400, r.statusCode(), r.body());
            assertEquals(c[1], Json.MAPPER.readTree(r.body()).path("error").path("param").asText(), r.body());
        }
        // the template fields, well formed, are taken (the request field audit once refused them as unknown)
        var taken = http.send(post(url, "{\"model\":\"tools-tiny\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],"
                + "\"chat_template_kwargs\":{\"enable_thinking\":false},\"add_generation_prompt\":true,\"documents\":[],\"max_tokens\":2}"),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        assertEquals(200, taken.statusCode(), taken.body());
        // the template's own raise_exception: a 400 whose message quotes it
        var refused = http.send(post(url, "{\"model\":\"tools-tiny\",\"messages\":[{\"role\":\"user\",\"content\":\"Please refuse.\"}]}"),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        assertEquals(400, refused.statusCode(), refused.body());
        String message = Json.MAPPER.readTree(refused.body()).path("error").path("message").asText();
        assertTrue(message.startsWith("chat template error (line ") && message.endsWith("): This template refuses: Please refuse."), message);
    }

    static java.net.http.HttpRequest post(String url, String body) {
        return java.net.http.HttpRequest.newBuilder(java.net.URI.create(url)).header("Content-Type", "application/json")
                .POST(java.net.http.HttpRequest.BodyPublishers.ofString(body)).build();
    }

    /** What LangChain4j's AI service calls: records the arguments it was given. */
    public static final class WeatherTool {
        final List<String> cities = new CopyOnWriteArrayList<>();

        @Tool(name = "get_weather", value = "Current weather in a city")
        public String weather(@P(name = "city", value = "the city") String city) {
            cities.add(city);
            return "sunny in " + city;
        }
    }

    interface Assistant {
        String chat(String message);
    }

    @Test
    void langChain4jToolRoundTrip() {
        OpenAiChatModel chatModel = OpenAiChatModel.builder().baseUrl("http://127.0.0.1:" + server.port() + "/v1")
                .apiKey("unused").modelName("tools-tiny").temperature(0.0).maxRetries(0).build();
        WeatherTool tool = new WeatherTool();
        Assistant assistant = AiServices.builder(Assistant.class).chatModel(chatModel).tools(tool).build();
        String answer = assistant.chat("What is the weather in Paris?");
        assertEquals(List.of("Paris"), tool.cities, "the @Tool method ran once, with the model's argument");
        assertEquals("The tool says: sunny in Paris", answer);
    }
}
