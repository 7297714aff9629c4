package dev.moe4j.serve;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.moe4j.chat.AssistantReply;
import dev.moe4j.chat.ChatTemplates;
import dev.moe4j.chat.OutputSink;
import dev.moe4j.chat.ReplyParser;
import dev.moe4j.chat.ToolCall;
import dev.moe4j.chat.ToolCallSyntax;
import dev.moe4j.generate.ChatRenderer;
import dev.moe4j.generate.ChatRequest;
import dev.moe4j.generate.ChatTemplate;
import dev.moe4j.generate.ChatTemplateException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One chat completion's template side: the prompt rendered by the model's chat template (a template error is
 * a 400 quoting the template), and the reply split into {@code content}, {@code reasoning_content} and
 * {@code tool_calls}, whole or as {@code chat.completion.chunk} deltas.
 *
 * <p>{@code tool_choice}: {@code none} leaves tool-call syntax in the content; a named function or
 * {@code required} starts the reply with the family's tool-call prefix ({@link ToolCallSyntax#forcedPrefix}),
 * so the model writes that function's arguments (which are not yet constrained to its schema: that needs the
 * token-mask constraints being built separately).
 */
final class ChatTurn {
    private final ChatTemplate family;
    private final String prompt;
    private final String forcedPrefix;
    private final ReplyParser parser;
    private final boolean parallelToolCalls;
    private int toolCalls;

    private final boolean parseTools;

    private ChatTurn(ChatTemplate family, String prompt, String forcedPrefix, boolean parseTools, boolean parallelToolCalls) {
        this.family = family;
        this.prompt = prompt;
        this.forcedPrefix = forcedPrefix;
        this.parseTools = parseTools;
        this.parser = ReplyParser.forFamily(family, prompt, parseTools);
        this.parallelToolCalls = parallelToolCalls;
    }

    /** The same turn with a reply parser of its own, for another choice ({@code n} > 1) of one request. */
    ChatTurn another() {
        return new ChatTurn(family, prompt, forcedPrefix, parseTools, parallelToolCalls);
    }

    static ChatTurn start(ChatTemplates templates, ChatFields chat) {
        ChatRenderer renderer = templates.select(!chat.toolNames().isEmpty());
        ChatTemplate family = renderer.family();
        ChatRequest request = family == ChatTemplate.HARMONY ? chat.request() : developerAsSystem(chat.request());
        String text;
        try {
            text = renderer.render(request);
        } catch (ChatTemplateException e) {
            throw ApiException.badRequest("messages", e.getMessage());
        }
        String prefix = chat.toolRequired() ? ToolCallSyntax.forcedPrefix(family, chat.forcedFunction()) : null;
        if (prefix == null) prefix = "";
        return new ChatTurn(family, text + prefix, prefix, chat.parseTools(), chat.parallelToolCalls());
    }

    /** OpenAI's {@code developer} role is the system prompt for templates that do not know it (all but harmony). */
    private static ChatRequest developerAsSystem(ChatRequest r) {
        List<Map<String, Object>> messages = new ArrayList<>();
        for (Map<String, Object> m : r.messages()) {
            if ("developer".equals(m.get("role"))) {
                Map<String, Object> copy = new LinkedHashMap<>(m);
                copy.put("role", "system");
                messages.add(copy);
            } else {
                messages.add(m);
            }
        }
        return new ChatRequest(messages, r.tools(), r.documents(), r.addGenerationPrompt(), r.continueFinalMessage(), r.extraVariables());
    }

    /** The prompt text to encode (special tokens as text), forced tool-call prefix included. */
    String prompt() { return prompt; }

    /**
     * Whether the reply must be decoded with its special tokens: harmony's message markers ({@code <|channel|>},
     * {@code <|message|>}, {@code <|end|>}) are special tokens that the parser reads and removes. Other families'
     * markers ({@code <think>}, {@code <tool_call>}, DeepSeek's tool-call tokens) are not special, so their
     * replies drop special tokens as Hugging Face's {@code skip_special_tokens} does.
     */
    boolean readsSpecialTokens() { return family == ChatTemplate.HARMONY; }

    /** Texts that end the assistant's turn in this family. */
    List<String> endsOfTurn() { return family.endsOfTurn(); }

    /**
     * Fills one choice of a whole {@code chat.completion} (made with the raw text as content) from the parsed
     * reply: content, {@code reasoning_content}, {@code tool_calls} and finish reason.
     */
    void complete(ObjectNode choice, String generated) {
        AssistantReply reply = new AssistantReply();
        parser.push(forcedPrefix, reply);
        parser.push(generated, reply);
        parser.finish(reply);
        ObjectNode message = (ObjectNode) choice.get("message");
        message.put("content", reply.content());
        if (!reply.reasoning().isEmpty()) message.put("reasoning_content", reply.reasoning());
        if (!reply.toolCalls().isEmpty()) {
            if (reply.content().isBlank()) message.putNull("content");
            ArrayNode calls = message.putArray("tool_calls");
            for (ToolCall c : reply.toolCalls()) {
                if (!parallelToolCalls && toolCalls == 1) break;   // parallel_tool_calls: false keeps the first
                calls.add(toolCall(c, -1));
            }
            choice.put("finish_reason", "tool_calls");
        }
    }

    /** Writes {@code chat.completion.chunk} deltas for streamed text. */
    final class Stream implements OutputSink {
        private final CompletionHandler.Shape shape;
        private final int index;
        private final ChunkWriter out;
        /** Log-probabilities of tokens whose text the parser has not sent yet: they go with the next chunk. */
        private final List<Sequence.TokenLogprob> pendingLogprobs = new ArrayList<>();

        /** Deltas of choice {@code index}. */
        Stream(CompletionHandler.Shape shape, int index, ChunkWriter out) {
            this.shape = shape;
            this.index = index;
            this.out = out;
            parser.push(forcedPrefix, this);
        }

        void push(String text, List<Sequence.TokenLogprob> logprobs) {
            pendingLogprobs.addAll(logprobs);
            parser.push(text, this);
        }

        /** Sends what the parser held back; returns the finish reason to report. */
        String finish(String finishReason) {
            parser.finish(this);
            if (!pendingLogprobs.isEmpty()) send("content", "");
            return toolCalls > 0 ? "tool_calls" : finishReason;
        }

        @Override public void content(String text) { send("content", text); }
        @Override public void reasoning(String text) { send("reasoning_content", text); }

        @Override
        public void toolCall(ToolCall call) {
            if (!parallelToolCalls && toolCalls == 1) return;   // parallel_tool_calls: false keeps the first
            ObjectNode chunk;
            ObjectNode delta = delta(chunk = chunk());
            delta.putArray("tool_calls").add(ChatTurn.this.toolCall(call, toolCalls++));
            write(chunk);
        }

        private void send(String field, String text) {
            ObjectNode chunk = chunk();
            delta(chunk).put(field, text);
            write(chunk);
        }

        /** A chunk of this choice with an empty delta, carrying the pending log-probabilities. */
        private ObjectNode chunk() {
            ObjectNode chunk = shape.chunk(index, "", false, null, List.copyOf(pendingLogprobs), 0);
            pendingLogprobs.clear();
            delta(chunk).remove("content");
            return chunk;
        }

        private static ObjectNode delta(ObjectNode chunk) {
            return (ObjectNode) chunk.get("choices").get(0).get("delta");
        }

        private void write(ObjectNode chunk) {
            try {
                out.send(chunk);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    /** OpenAI's tool call object; {@code index} (streaming only) when not negative. */
    private ObjectNode toolCall(ToolCall c, int index) {
        ObjectNode n = Json.object();
        if (index >= 0) n.put("index", index);
        else toolCalls++;
        n.put("id", c.id());
        n.put("type", "function");
        ObjectNode fn = n.putObject("function");
        fn.put("name", c.name());
        fn.put("arguments", c.arguments());
        return n;
    }

    interface ChunkWriter {
        void send(ObjectNode chunk) throws IOException;
    }
}
