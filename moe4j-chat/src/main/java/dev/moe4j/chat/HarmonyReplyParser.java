package dev.moe4j.chat;

import com.fasterxml.jackson.databind.ObjectMapper;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * gpt-oss replies in OpenAI's harmony format: a sequence of messages, each a header
 * ({@code <|channel|>analysis}, {@code <|channel|>commentary to=functions.NAME <|constrain|>json}, optionally
 * after {@code <|start|>assistant}), {@code <|message|>}, the body, and {@code <|end|>}, {@code <|call|>} or
 * {@code <|return|>}. The analysis channel is reasoning, final is content, a commentary message to
 * {@code functions.NAME} is a tool call whose body is the arguments (layout as in gpt-oss's chat template).
 */
final class HarmonyReplyParser implements ReplyParser {
    private static final String MESSAGE = "<|message|>", START = "<|start|>";
    private static final List<String> BODY_ENDS = List.of("<|end|>", "<|call|>", "<|return|>");
    private static final Pattern CHANNEL = Pattern.compile("<\\|channel\\|>\\s*(\\w+)");
    private static final Pattern RECIPIENT = Pattern.compile("to=([^\\s<]+)");
    private static final ObjectMapper JSON = new ObjectMapper();

    private enum Part { REASONING, CONTENT, TOOL }

    private final boolean parseTools;
    private final HeldText held = new HeldText();
    private final StringBuilder toolArguments = new StringBuilder();
    private boolean inHeader = true;
    private Part part;
    private String toolName;

    HarmonyReplyParser(boolean parseTools) {
        this.parseTools = parseTools;
    }

    @Override
    public void push(String text, OutputSink sink) {
        held.add(text);
        while (step(sink)) { /* until nothing more is certain */ }
    }

    private boolean step(OutputSink sink) {
        if (inHeader) {
            HeldText.Found m = held.find(List.of(MESSAGE));
            if (m == null) return false;
            header(held.cut(m));
            inHeader = false;
            return true;
        }
        HeldText.Found end = held.find(BODY_ENDS);
        if (end != null) {
            body(held.cut(end), sink);
            endMessage(sink);
            inHeader = true;
            HeldText.Found start = held.find(List.of(START));
            if (start != null && start.at() == 0) held.cut(start);
            return true;
        }
        body(held.safe(BODY_ENDS), sink);
        return false;
    }

    private void header(String header) {
        Matcher ch = CHANNEL.matcher(header), to = RECIPIENT.matcher(header);
        String channel = ch.find() ? ch.group(1) : "final";
        String recipient = to.find() ? to.group(1) : null;
        if (parseTools && recipient != null && recipient.startsWith("functions.")) {
            part = Part.TOOL;
            toolName = recipient.substring("functions.".length());
            toolArguments.setLength(0);
        } else {
            part = channel.equals("analysis") ? Part.REASONING : Part.CONTENT;
        }
    }

    private void body(String text, OutputSink sink) {
        if (text.isEmpty()) return;
        switch (part) {
            case REASONING -> sink.reasoning(text);
            case CONTENT -> sink.content(text);
            case TOOL -> toolArguments.append(text);
        }
    }

    private void endMessage(OutputSink sink) {
        if (part != Part.TOOL) return;
        String args = toolArguments.toString().strip();
        try {
            sink.toolCall(ToolCallSyntax.call(toolName, JSON.readTree(args)));
        } catch (Exception notJson) {   // arguments that are not a JSON object are passed on as written
            sink.toolCall(new ToolCall(ToolCallSyntax.newId(), toolName, args));
        }
        part = Part.CONTENT;
    }

    @Override
    public void finish(OutputSink sink) {
        if (inHeader) {
            // text that never reached <|message|>: not harmony; show it rather than lose it
            String rest = held.all();
            if (!rest.isBlank()) sink.content(rest);
            return;
        }
        body(held.all(), sink);   // the reply ended at a stop string (<|return|>, <|call|>) or max_tokens
        endMessage(sink);
    }
}
