package dev.moe4j.train;

import java.util.function.Function;
import java.util.function.UnaryOperator;

/**
 * A setting of a run (model shape or optimisation) out of range. The message names settings as the checkpoint
 * spells them ({@code "invalid steps: 0 (must be at least 1)"}); {@link #describe} lets a caller spell them its
 * own way, so the command line can say {@code --steps} without parsing the message.
 */
public final class InvalidSettingException extends IllegalArgumentException {
    private final String setting;
    private final transient Function<UnaryOperator<String>, String> text;

    /**
     * @param setting the setting at fault, as the checkpoint spells it ({@code "heads"})
     * @param text    the message, given how to spell each setting it names
     */
    InvalidSettingException(String setting, Function<UnaryOperator<String>, String> text) {
        super(text.apply(UnaryOperator.identity()));
        this.setting = setting;
        this.text = text;
    }

    /** {@code "invalid SETTING: VALUE (REASON)"}, the reason naming no other setting. */
    static InvalidSettingException of(String setting, Object value, String reason) {
        return new InvalidSettingException(setting, name -> "invalid " + name.apply(setting) + ": " + value + " (" + reason + ")");
    }

    /** The setting at fault, as the checkpoint spells it. */
    public String setting() {
        return setting;
    }

    /** The message with every setting it names spelled by {@code name} (e.g. {@code s -> "--" + s}). */
    public String describe(UnaryOperator<String> name) {
        return text.apply(name);
    }
}
