package dev.moe4j.chat;

import dev.moe4j.generate.ChatTemplate;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Replies in each family's syntax are split into reasoning, content and tool calls, whole or streamed in random pieces. */
class ReplyParserTest {
    @Test
    void qwenThinkingThenToolCalls() {
        String reply = "<think>\nThe user wants weather.\n</think>\n\nLet me check.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Zürich\"}}\n</tool_call>\n<tool_call>\n{\"name\": \"get_time\", \"arguments\": {\"tz\": \"CET\"}}\n</tool_call>";
        AssistantReply r = both(ChatTemplate.CHATML, "<|im_start|>assistant\n", true, reply);
        assertEquals("The user wants weather.\n", r.reasoning());
        assertEquals("Let me check.\n", r.content());
        assertEquals(2, r.toolCalls().size());
        assertEquals("get_weather", r.toolCalls().get(0).name());
        assertEquals("{\"city\":\"Zürich\"}", r.toolCalls().get(0).arguments());
        assertEquals("{\"tz\":\"CET\"}", r.toolCalls().get(1).arguments());
        assertTrue(r.toolCalls().get(0).id().startsWith("call_"));
    }

    @Test
    void toolSyntaxStaysContentWhenToolsAreNotParsed() {
        String reply = "<tool_call>\n{\"name\": \"f\", \"arguments\": {}}\n</tool_call>";
        AssistantReply r = both(ChatTemplate.CHATML, "", false, reply);
        assertEquals(reply, r.content());
        assertTrue(r.toolCalls().isEmpty());
    }

    @Test
    void malformedToolCallIsShownAsContent() {
        String reply = "Sure <tool_call>\n{\"name\": \"f\", \"arguments\": {\"a\": </tool_call>";
        AssistantReply r = both(ChatTemplate.CHATML, "", true, reply);
        assertEquals(reply, r.content());
        assertTrue(r.toolCalls().isEmpty());
    }

    @Test
    void promptEndingInsideThinkStartsInReasoning() {
        AssistantReply r = both(ChatTemplate.DEEPSEEK, "<｜User｜>hi<｜Assistant｜><think>\n", true, "Hmm, a greeting.</think>Hello!");
        assertEquals("Hmm, a greeting.", r.reasoning());
        assertEquals("Hello!", r.content());
        AssistantReply closed = both(ChatTemplate.DEEPSEEK, "<｜Assistant｜><think></think>", true, "Hello!");
        assertEquals("", closed.reasoning());
        assertEquals("Hello!", closed.content());
    }

    @Test
    void deepSeekV3AndV31ToolCalls() {
        String v3 = "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>get_weather\n```json\n{\"city\": \"Paris\"}\n```<｜tool▁call▁end｜>\n<｜tool▁call▁begin｜>function<｜tool▁sep｜>get_time\n```json\n{\"tz\": \"CET\"}\n```<｜tool▁call▁end｜><｜tool▁calls▁end｜>";
        AssistantReply r = both(ChatTemplate.DEEPSEEK, "", true, v3);
        assertEquals(List.of("get_weather", "get_time"), r.toolCalls().stream().map(ToolCall::name).toList());
        assertEquals("{\"city\":\"Paris\"}", r.toolCalls().get(0).arguments());
        assertEquals("", r.content());
        String v31 = "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>get_weather<｜tool▁sep｜>{\"city\": \"Oslo\"}<｜tool▁call▁end｜><｜tool▁calls▁end｜>";
        AssistantReply r31 = both(ChatTemplate.DEEPSEEK, "", true, v31);
        assertEquals("get_weather", r31.toolCalls().getFirst().name());
        assertEquals("{\"city\":\"Oslo\"}", r31.toolCalls().getFirst().arguments());
    }

    @Test
    void mistralToolCallsBothSyntaxes() {
        AssistantReply a = both(ChatTemplate.MISTRAL_INST, "", true, "[TOOL_CALLS] [{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Rome\"}}]");
        assertEquals("get_weather", a.toolCalls().getFirst().name());
        assertEquals("{\"city\":\"Rome\"}", a.toolCalls().getFirst().arguments());
        AssistantReply b = both(ChatTemplate.MISTRAL_INST, "", true, "[TOOL_CALLS]get_weather[ARGS]{\"city\": \"Rome\"}");
        assertEquals("{\"city\":\"Rome\"}", b.toolCalls().getFirst().arguments());
    }

    @Test
    void harmonyChannels() {
        // the prompt ends with <|start|>assistant; the stop string <|return|> never reaches the parser
        String reply = "<|channel|>analysis<|message|>Need a greeting.<|end|><|start|>assistant<|channel|>final<|message|>Hi there!";
        AssistantReply r = both(ChatTemplate.HARMONY, "", true, reply);
        assertEquals("Need a greeting.", r.reasoning());
        assertEquals("Hi there!", r.content());
        assertTrue(r.toolCalls().isEmpty());
    }

    @Test
    void harmonyToolCall() {
        String reply = "<|channel|>analysis<|message|>Call the tool.<|end|><|start|>assistant<|channel|>commentary to=functions.get_weather <|constrain|>json<|message|>{\"city\": \"Lima\"}";
        AssistantReply r = both(ChatTemplate.HARMONY, "", true, reply);
        assertEquals("Call the tool.", r.reasoning());
        assertEquals("get_weather", r.toolCalls().getFirst().name());
        assertEquals("{\"city\":\"Lima\"}", r.toolCalls().getFirst().arguments());
        String recipientFirst = "<|start|>assistant to=functions.get_time<|channel|>commentary json<|message|>{\"tz\": \"UTC\"}";
        assertEquals("get_time", both(ChatTemplate.HARMONY, "", true, recipientFirst).toolCalls().getFirst().name());
    }

    @Test
    void forcedPrefixesParseBack() {
        for (ChatTemplate family : List.of(ChatTemplate.CHATML, ChatTemplate.DEEPSEEK, ChatTemplate.MISTRAL_INST, ChatTemplate.HARMONY)) {
            String prefix = ToolCallSyntax.forcedPrefix(family, "get_weather");
            String rest = switch (family) {
                case CHATML -> "{\"city\": \"Bern\"}}\n</tool_call>";
                case DEEPSEEK -> "{\"city\": \"Bern\"}\n```<｜tool▁call▁end｜><｜tool▁calls▁end｜>";
                case MISTRAL_INST -> "{\"city\": \"Bern\"}}]";
                default -> "{\"city\": \"Bern\"}";
            };
            AssistantReply r = both(family, "", true, prefix + rest);
            assertEquals("get_weather", r.toolCalls().getFirst().name(), family.name());
            assertEquals("{\"city\":\"Bern\"}", r.toolCalls().getFirst().arguments(), family.name());
        }
        assertNull(ToolCallSyntax.forcedPrefix(ChatTemplate.PLAIN, "f"));
    }

    /** Parses whole and streamed in random pieces (seeded); both must give the same parts. */
    private static AssistantReply both(ChatTemplate family, String prompt, boolean tools, String reply) {
        AssistantReply whole = AssistantReply.parse(ReplyParser.forFamily(family, prompt, tools), reply);
        Random random = new Random(reply.hashCode());
        for (int round = 0; round < 20; round++) {
            ReplyParser p = ReplyParser.forFamily(family, prompt, tools);
            AssistantReply streamed = new AssistantReply();
            for (int i = 0; i < reply.length(); ) {
                int n = Math.min(reply.length() - i, 1 + random.nextInt(6));
                p.push(reply.substring(i, i + n), streamed);
                i += n;
            }
            p.finish(streamed);
            assertEquals(whole.content(), streamed.content(), "content, streamed");
            assertEquals(whole.reasoning(), streamed.reasoning(), "reasoning, streamed");
            assertEquals(whole.toolCalls().stream().map(c -> c.name() + c.arguments()).toList(),
                    streamed.toolCalls().stream().map(c -> c.name() + c.arguments()).toList(), "tool calls, streamed");
        }
        return whole;
    }
}
