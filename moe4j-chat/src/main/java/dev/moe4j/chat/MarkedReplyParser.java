package dev.moe4j.chat;

import dev.moe4j.generate.ChatTemplate;

import java.util.List;

/**
 * Replies whose parts are marked inline: reasoning in {@code <think>...</think>} (Qwen3, DeepSeek-R1/V3.1), then
 * content, then tool calls from the family's start marker on ({@link ToolCallSyntax}).
 */
final class MarkedReplyParser implements ReplyParser {
    static final String THINK_OPEN = "<think>", THINK_CLOSE = "</think>";

    private enum State { START, REASONING, CONTENT, TOOLS }

    private final ChatTemplate family;
    private final List<String> toolMarkers;
    private final HeldText held = new HeldText();
    private final StringBuilder tools = new StringBuilder();
    private State state;
    private boolean stripLeading;   // just after </think>: the blank lines before the answer are not content

    MarkedReplyParser(ChatTemplate family, boolean startsInReasoning, boolean parseTools) {
        this.family = family;
        this.toolMarkers = parseTools ? ToolCallSyntax.startMarkers(family) : List.of();
        this.state = startsInReasoning ? State.REASONING : State.START;
    }

    @Override
    public void push(String text, OutputSink sink) {
        if (state == State.TOOLS) { tools.append(text); return; }
        held.add(text);
        while (step(sink)) { /* until nothing more is certain */ }
    }

    /** Moves the state on as far as the held text allows; true when it changed state (try again). */
    private boolean step(OutputSink sink) {
        switch (state) {
            case START -> {
                String t = held.all();
                String lead = t.stripLeading();
                if (lead.startsWith(THINK_OPEN)) {
                    held.add(lead.substring(THINK_OPEN.length()));
                    state = State.REASONING;
                    stripLeading = true;
                    return true;
                }
                held.add(t);
                if (THINK_OPEN.startsWith(lead)) return false;   // could still become <think>
                state = State.CONTENT;
                return true;
            }
            case REASONING -> {
                if (stripLeading && !strip()) return false;
                HeldText.Found end = held.find(List.of(THINK_CLOSE));
                if (end != null) {
                    emit(sink, held.cut(end), true);
                    state = State.CONTENT;
                    stripLeading = true;
                    return true;
                }
                emit(sink, held.safe(List.of(THINK_CLOSE)), true);
                return false;
            }
            case CONTENT -> {
                if (stripLeading && !strip()) return false;
                HeldText.Found call = held.find(toolMarkers);
                if (call != null) {
                    emit(sink, held.cut(call), false);
                    tools.append(call.marker()).append(held.all());
                    state = State.TOOLS;
                    return false;
                }
                emit(sink, held.safe(toolMarkers), false);
                return false;
            }
            default -> { return false; }
        }
    }

    /** Drops leading whitespace; false while only whitespace has arrived. */
    private boolean strip() {
        String t = held.all().stripLeading();
        held.add(t);
        if (t.isEmpty()) return false;
        stripLeading = false;
        return true;
    }

    private static void emit(OutputSink sink, String text, boolean reasoning) {
        if (text.isEmpty()) return;
        if (reasoning) sink.reasoning(text);
        else sink.content(text);
    }

    @Override
    public void finish(OutputSink sink) {
        switch (state) {
            case START, CONTENT -> emit(sink, held.all(), false);
            case REASONING -> emit(sink, held.all(), true);
            case TOOLS -> {
                List<ToolCall> calls = ToolCallSyntax.parse(family, tools.toString());
                if (calls == null) sink.content(tools.toString());
                else calls.forEach(sink::toolCall);
            }
        }
        tools.setLength(0);
    }
}
