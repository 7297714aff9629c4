package dev.moe4j.chat;

import dev.moe4j.generate.ChatTemplate;

/**
 * Splits a streamed assistant reply into content, reasoning and tool calls, in the syntax of its template
 * family. Feed it the generated text piece by piece; it passes each part to the sink as soon as it is sure
 * of it (text that may be the start of a marker waits for the next piece).
 */
public interface ReplyParser {
    /** Adds generated text. */
    void push(String text, OutputSink sink);

    /** The reply is complete: passes on whatever was held back; unparseable tool-call text becomes content. */
    void finish(OutputSink sink);

    /**
     * A parser for a reply that follows {@code prompt}.
     *
     * @param prompt     the rendered prompt (plus any forced prefix): a prompt that ends inside {@code <think>}
     *                   (DeepSeek-R1, V3.1 thinking) starts the reply in reasoning
     * @param parseTools false when tools were not offered or {@code tool_choice} is {@code none}: tool-call syntax
     *                   stays in the content
     */
    static ReplyParser forFamily(ChatTemplate family, String prompt, boolean parseTools) {
        if (family == ChatTemplate.HARMONY) return new HarmonyReplyParser(parseTools);
        int open = prompt.lastIndexOf(MarkedReplyParser.THINK_OPEN), close = prompt.lastIndexOf(MarkedReplyParser.THINK_CLOSE);
        return new MarkedReplyParser(family, open >= 0 && open > close, parseTools);
    }
}
