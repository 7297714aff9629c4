package dev.moe4j.chat;

import java.util.ArrayList;
import java.util.List;

/** A whole reply's parts, collected from a {@link ReplyParser}. */
public final class AssistantReply implements OutputSink {
    private final StringBuilder content = new StringBuilder(), reasoning = new StringBuilder();
    private final List<ToolCall> toolCalls = new ArrayList<>();

    /** Parses a complete reply. */
    public static AssistantReply parse(ReplyParser parser, String text) {
        AssistantReply r = new AssistantReply();
        parser.push(text, r);
        parser.finish(r);
        return r;
    }

    @Override public void content(String text) { content.append(text); }
    @Override public void reasoning(String text) { reasoning.append(text); }
    @Override public void toolCall(ToolCall call) { toolCalls.add(call); }

    public String content() { return content.toString(); }
    public String reasoning() { return reasoning.toString(); }
    public List<ToolCall> toolCalls() { return List.copyOf(toolCalls); }
}
