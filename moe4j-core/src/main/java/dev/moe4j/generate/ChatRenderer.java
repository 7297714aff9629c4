package dev.moe4j.generate;

/**
 * Turns a conversation into the prompt text a model was trained on. moe4j-core implements it without a
 * template engine ({@link ChatTemplate}: the family of a template, guessed from its markers); the
 * {@code moe4j-chat} module runs the checkpoint's own Jinja template.
 */
public interface ChatRenderer {
    /**
     * The prompt text for {@code request} (special tokens as text; encode it without adding BOS/EOS).
     *
     * @throws ChatTemplateException when the template refuses the conversation ({@code raise_exception}) or
     *                               fails; the message quotes the template's own message
     */
    String render(ChatRequest request);

    /** The family of this template: which stop strings, tool-call syntax and reasoning markers its model uses. */
    ChatTemplate family();
}
