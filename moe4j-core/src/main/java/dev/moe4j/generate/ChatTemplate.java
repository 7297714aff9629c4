package dev.moe4j.generate;

import java.util.List;

/**
 * Renders a conversation into prompt text. Checkpoints carry their template as Jinja; moe4j recognises
 * the common families by their markers and renders them natively, and falls back to a plain
 * "User:/Assistant:" transcript when a model has no template.
 */
public enum ChatTemplate {
    /** Qwen and many others: {@code <|im_start|>role\ncontent<|im_end|>\n}. */
    CHATML,
    /** Mistral/Mixtral: {@code <s>[INST] user [/INST] answer</s>}. */
    MISTRAL_INST,
    /** OLMoE / Tulu: {@code <|user|>\ncontent\n<|assistant|>\n}. */
    TULU,
    /** No template: a plain transcript. */
    PLAIN;

    public record Message(String role, String content) {}

    /** The template family a Jinja template belongs to, or PLAIN when there is none or it is not recognised. */
    public static ChatTemplate detect(String jinja) {
        if (jinja == null || jinja.isBlank()) return PLAIN;
        if (jinja.contains("<|im_start|>")) return CHATML;
        if (jinja.contains("[INST]")) return MISTRAL_INST;
        if (jinja.contains("<|user|>")) return TULU;
        return PLAIN;
    }

    /** Prompt text for the conversation, ending where the assistant's next reply begins. */
    public String render(List<Message> messages, String bosText) {
        StringBuilder b = new StringBuilder();
        switch (this) {
            case CHATML -> {
                for (Message m : messages) b.append("<|im_start|>").append(m.role()).append('\n').append(m.content()).append("<|im_end|>\n");
                b.append("<|im_start|>assistant\n");
            }
            case MISTRAL_INST -> {
                b.append(bosText == null ? "" : bosText);
                String system = null;
                for (Message m : messages) {
                    switch (m.role()) {
                        case "system" -> system = m.content();
                        case "user" -> {
                            String text = system == null ? m.content() : system + "\n\n" + m.content();
                            system = null;
                            b.append("[INST] ").append(text).append(" [/INST]");
                        }
                        default -> b.append(' ').append(m.content()).append("</s>");
                    }
                }
            }
            case TULU -> {
                for (Message m : messages) b.append("<|").append(m.role()).append("|>\n").append(m.content()).append('\n');
                b.append("<|assistant|>\n");
            }
            case PLAIN -> {
                for (Message m : messages) {
                    String who = switch (m.role()) { case "user" -> "User"; case "assistant" -> "Assistant"; default -> "System"; };
                    b.append(who).append(": ").append(m.content()).append('\n');
                }
                b.append("Assistant:");
            }
        }
        return b.toString();
    }

    /** Text that ends an assistant turn in this template (a stop string), or null. */
    public String endOfTurn() {
        return switch (this) {
            case CHATML -> "<|im_end|>";
            case MISTRAL_INST -> "</s>";
            case TULU -> "<|user|>";
            case PLAIN -> "\nUser:";
        };
    }
}
