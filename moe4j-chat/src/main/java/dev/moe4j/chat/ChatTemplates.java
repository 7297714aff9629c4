package dev.moe4j.chat;

import dev.moe4j.generate.ChatRenderer;
import dev.moe4j.generate.ChatTemplate;
import dev.moe4j.model.Model;
import dev.moe4j.tokenizer.Tokenizer;

import java.time.Clock;
import java.util.Map;

/**
 * A model's chat templates: its Jinja templates run by {@link JinjaChatTemplate}, or, when the checkpoint has
 * none, core's built-in family rendering ({@link ChatTemplate#PLAIN}, a {@code User:/Assistant:} transcript).
 */
public final class ChatTemplates {
    private final ChatRenderer standard;
    private final ChatRenderer toolUse;   // transformers picks the template named "tool_use" when tools are given

    private ChatTemplates(ChatRenderer standard, ChatRenderer toolUse) {
        this.standard = standard;
        this.toolUse = toolUse;
    }

    /** The templates of {@code model}; {@code bos_token}/{@code eos_token} are its tokenizer's BOS/EOS texts. */
    public static ChatTemplates of(Model model, Clock clock) {
        Tokenizer tok = model.tokenizer();
        String bos = tok.bosId() >= 0 ? tok.tokenText(tok.bosId()) : "";
        String eos = tok.eosId() >= 0 ? tok.tokenText(tok.eosId()) : "";
        return of(model.chatTemplates(), bos, eos, clock);
    }

    /** Templates by name ({@value Model#DEFAULT_TEMPLATE}, {@code tool_use}); an empty map means the built-in fallback. */
    public static ChatTemplates of(Map<String, String> templates, String bos, String eos, Clock clock) {
        String dflt = templates.get(Model.DEFAULT_TEMPLATE), tools = templates.get("tool_use");
        ChatRenderer standard = dflt != null ? new JinjaChatTemplate(dflt, bos, eos, clock)
                : tools != null ? new JinjaChatTemplate(tools, bos, eos, clock) : ChatTemplate.PLAIN;
        ChatRenderer toolUse = tools != null ? new JinjaChatTemplate(tools, bos, eos, clock) : standard;
        return new ChatTemplates(standard, toolUse);
    }

    /** The template for a conversation with or without tools. */
    public ChatRenderer select(boolean withTools) { return withTools ? toolUse : standard; }

    /** The family of the default template (stop strings, tool-call syntax, reasoning markers). */
    public ChatTemplate family() { return standard.family(); }

    /** Whether the checkpoint's own template is used (not the built-in fallback). */
    public boolean fromCheckpoint() { return standard instanceof JinjaChatTemplate; }
}
