package dev.moe4j.generate;

import java.util.List;
import java.util.Map;

/**
 * Template families, recognised by their markers, with a built-in rendering of each. This is the fallback
 * for checkpoints that carry no Jinja template (and for users of moe4j-core alone); with a template,
 * moe4j-chat runs it and uses the family only for stop strings, tool-call syntax and reasoning markers.
 * The built-in renderings use role and text content only: tools and template variables need the template.
 */
public enum ChatTemplate implements ChatRenderer {
    /** Qwen and many others: {@code <|im_start|>role\ncontent<|im_end|>\n}. */
    CHATML,
    /** DeepSeek-V3/R1: {@code <｜begin▁of▁sentence｜>system<｜User｜>u<｜Assistant｜>a<｜end▁of▁sentence｜>}. */
    DEEPSEEK,
    /** gpt-oss (OpenAI harmony): {@code <|start|>role<|message|>content<|end|>}. */
    HARMONY,
    /** Mistral/Mixtral: {@code <s>[INST] user [/INST] answer</s>}. */
    MISTRAL_INST,
    /** OLMoE / Tulu: {@code <|user|>\ncontent\n<|assistant|>\n}. */
    TULU,
    /** No template: a plain transcript. */
    PLAIN;

    public record Message(String role, String content) {}

    static final String DS_BOS = "<｜begin▁of▁sentence｜>", DS_EOS = "<｜end▁of▁sentence｜>";

    /** The template family a Jinja template belongs to, or PLAIN when there is none or it is not recognised. */
    public static ChatTemplate detect(String jinja) {
        if (jinja == null || jinja.isBlank()) return PLAIN;
        if (jinja.contains("<|im_start|>")) return CHATML;
        if (jinja.contains("<｜User｜>") || jinja.contains("<｜Assistant｜>")) return DEEPSEEK;
        if (jinja.contains("<|start|>") && jinja.contains("<|message|>")) return HARMONY;
        if (jinja.contains("[INST]")) return MISTRAL_INST;
        if (jinja.contains("<|user|>")) return TULU;
        return PLAIN;
    }

    @Override
    public ChatTemplate family() { return this; }

    /** The built-in rendering of a request: roles and text only (tools, documents and variables are not shown). */
    @Override
    public String render(ChatRequest request) {
        List<Message> messages = request.messages().stream().map(ChatTemplate::plain).toList();
        return render(messages, null, request.addGenerationPrompt());
    }

    /** Prompt text for the conversation, ending where the assistant's next reply begins. */
    public String render(List<Message> messages, String bosText) {
        return render(messages, bosText, true);
    }

    private String render(List<Message> messages, String bosText, boolean generationPrompt) {
        StringBuilder b = new StringBuilder();
        switch (this) {
            case CHATML -> {
                for (Message m : messages) b.append("<|im_start|>").append(m.role()).append('\n').append(m.content()).append("<|im_end|>\n");
                if (generationPrompt) b.append("<|im_start|>assistant\n");
            }
            case DEEPSEEK -> {
                b.append(DS_BOS);
                for (Message m : messages) {
                    switch (m.role()) {
                        case "system" -> b.append(m.content());
                        case "user", "tool" -> b.append("<｜User｜>").append(m.content());
                        default -> b.append("<｜Assistant｜>").append(m.content()).append(DS_EOS);
                    }
                }
                if (generationPrompt) b.append("<｜Assistant｜>");
            }
            case HARMONY -> {
                for (Message m : messages) {
                    String role = m.role().equals("assistant") ? "assistant<|channel|>final" : m.role();
                    b.append("<|start|>").append(role).append("<|message|>").append(m.content()).append("<|end|>");
                }
                if (generationPrompt) b.append("<|start|>assistant");
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
                if (generationPrompt) b.append("<|assistant|>\n");
            }
            case PLAIN -> {
                for (Message m : messages) {
                    String who = switch (m.role()) { case "user" -> "User"; case "assistant" -> "Assistant"; case "tool" -> "Tool"; default -> "System"; };
                    b.append(who).append(": ").append(m.content()).append('\n');
                }
                if (generationPrompt) b.append("Assistant:");
            }
        }
        return b.toString();
    }

    /** Role and text of a JSON-like message: text content parts joined, null content as empty. */
    private static Message plain(Map<String, Object> m) {
        Object role = m.get("role"), content = m.get("content");
        StringBuilder text = new StringBuilder();
        if (content instanceof String s) text.append(s);
        else if (content instanceof List<?> parts) {
            for (Object p : parts) if (p instanceof Map<?, ?> part && part.get("text") instanceof String s) text.append(s);
        }
        return new Message(String.valueOf(role), text.toString());
    }

    /** Text that ends an assistant turn in this template (a stop string). */
    public String endOfTurn() {
        return switch (this) {
            case CHATML -> "<|im_end|>";
            case DEEPSEEK -> DS_EOS;
            case HARMONY -> "<|return|>";
            case MISTRAL_INST -> "</s>";
            case TULU -> "<|user|>";
            case PLAIN -> "\nUser:";
        };
    }

    /** Every text that ends an assistant turn: {@link #endOfTurn()}, and for harmony also {@code <|call|>} (a tool call). */
    public List<String> endsOfTurn() {
        return this == HARMONY ? List.of("<|return|>", "<|call|>") : List.of(endOfTurn());
    }
}
