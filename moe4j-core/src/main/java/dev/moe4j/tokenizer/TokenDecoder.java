package dev.moe4j.tokenizer;

/** Incremental decoding for generation. Not thread-safe; one per generated sequence. */
public interface TokenDecoder {
    /**
     * Feeds one generated id and returns the text it completes: possibly empty, for instance while a UTF-8
     * character is still split over byte tokens.
     */
    String next(int id);

    /** Returns whatever is still held back (possibly with replacement characters) and starts over. */
    String flush();
}
