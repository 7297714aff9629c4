package dev.moe4j.train.data;

import dev.moe4j.tokenizer.Tokenizer;

import java.util.List;

/** Where training tokens come from. Batches are a pure function of (seed, step), so a resumed run sees the same data. */
public interface Dataset {
    /** The vocabulary (also what export writes as the tokenizer). */
    ByteBpe vocabulary();

    /** The same vocabulary as moe4j's inference tokenizer (for encoding prompts and decoding samples). */
    Tokenizer tokenizer();

    /** Domain names when sequences are labelled, else empty. */
    List<String> domains();

    Batch trainBatch(long seed, long step, int b, int t);

    /** A fixed held-out batch; the same for every run and seed. */
    Batch validationBatch(int index, int b, int t);

    /** Short description for logs and reports. */
    String describe();

    static long mix(long seed, long step, long j) {
        long z = seed * 0x9E3779B97F4A7C15L + step * 0xBF58476D1CE4E5B9L + j * 0x94D049BB133111EBL;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
