package dev.moe4j.tokenizer;

import java.util.Map;

/** Text ↔ token ids, matching the Hugging Face {@code tokenizers} library on the same vocabulary. Thread-safe. */
public interface Tokenizer {
    /**
     * Encodes {@code text}. Added/special token strings inside the text (e.g. {@code <|im_start|>}) are always
     * matched as single tokens; {@code addSpecial} only controls the BOS/EOS the post-processor adds.
     */
    int[] encode(String text, boolean addSpecial);

    /** Decodes ids back to text, special tokens included: {@code decode(ids, false)}. */
    default String decode(int[] ids) {
        return decode(ids, false);
    }

    /**
     * Decodes ids back to text as Hugging Face's {@code Tokenizer.decode(ids, skip_special_tokens)} does: with
     * {@code skipSpecial}, tokens marked special (BOS, EOS, {@code <|im_end|>}...) are left out before the
     * decoder runs. Throws {@code Moe4jException} naming the id for an id out of range.
     */
    String decode(int[] ids, boolean skipSpecial);

    int vocabSize();

    /** Id of the beginning-of-sequence token, or -1 when the model has none. */
    int bosId();

    /** Id of the end-of-sequence token, or -1 when the model has none. */
    int eosId();

    /** The raw vocabulary string of a token (e.g. {@code ▁the}, {@code Ġthe}, {@code <0x0A>}). */
    String tokenText(int id);

    /**
     * The bytes a token contributes to decoded text in the middle of a sequence (byte-level characters mapped back
     * to bytes, {@code <0xNN>} byte-fallback tokens as their one byte, the SentencePiece ▁ as a space). A piece of a
     * UTF-8 character stays a piece. For special tokens, the UTF-8 of their text. Throws {@code Moe4jException} for
     * an id out of range.
     */
    byte[] tokenBytes(int id);

    /** Whether the token is a special (control) token such as BOS, EOS or a chat-template marker. */
    boolean isSpecial(int id);

    /** Special token strings and their ids. */
    Map<String, Integer> specialTokens();

    /** A streaming decoder for generated text shown to people: {@code streamingDecoder(true)}. */
    default TokenDecoder streamingDecoder() {
        return streamingDecoder(true);
    }

    /**
     * A fresh streaming decoder (one per sequence): everything it emits, flush included, concatenates to exactly
     * {@code decode(ids, skipSpecial)} of the ids fed. Text is emitted as soon as no later id can change it.
     */
    TokenDecoder streamingDecoder(boolean skipSpecial);
}
