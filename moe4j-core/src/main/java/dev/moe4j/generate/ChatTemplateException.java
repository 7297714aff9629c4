package dev.moe4j.generate;

import dev.moe4j.util.Moe4jException;

/** A chat template refused or failed to render a conversation; the message is one line quoting the template's. */
public class ChatTemplateException extends Moe4jException {
    public ChatTemplateException(String message) {
        super(message);
    }

    public ChatTemplateException(String message, Throwable cause) {
        super(message, cause);
    }
}
