package dev.moe4j.chat;

/** Receives an assistant reply split into its parts, as it is generated. */
public interface OutputSink {
    /** Visible text of the reply. */
    void content(String text);

    /** Text of the model's reasoning ({@code <think>} blocks, harmony's analysis channel). */
    void reasoning(String text);

    /** A complete tool call, in the order the model wrote them. */
    void toolCall(ToolCall call);
}
