package dev.moe4j.tokenizer;

/** Receives a decoder chain's token list as pieces ({@link StreamStage}), then {@link #finish()} once. */
interface TokenSink {
    /** {@code newToken}: the piece starts a new token of the list; else it continues the last one. */
    void accept(String piece, boolean newToken);

    void finish();
}
