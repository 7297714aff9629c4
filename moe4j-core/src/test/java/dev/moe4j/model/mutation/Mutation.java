package dev.moe4j.model.mutation;

import java.util.function.Supplier;

/**
 * One damaged copy of one file of a checkpoint: which file (its name within the checkpoint), what was
 * changed (for the report), and the damaged bytes, made only when the mutant is run.
 */
record Mutation(String file, String what, Supplier<byte[]> content) {

    /** A copy of {@code original} with {@code patch} written at {@code pos} (the same length). */
    static Mutation patch(String file, String what, byte[] original, int pos, byte[] patch) {
        return new Mutation(file, what, () -> {
            byte[] b = original.clone();
            System.arraycopy(patch, 0, b, pos, patch.length);
            return b;
        });
    }

    /** {@code v} as {@code width} little-endian bytes. */
    static byte[] le(long v, int width) {
        byte[] b = new byte[width];
        for (int i = 0; i < width; i++) b[i] = (byte) (v >>> (8 * i));
        return b;
    }

    @Override
    public String toString() {
        return file + ": " + what;
    }
}
