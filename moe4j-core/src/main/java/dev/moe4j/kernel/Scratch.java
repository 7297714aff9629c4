package dev.moe4j.kernel;

/**
 * Per-thread, grow-only float buffers for the forward pass, so that decoding one token after another
 * allocates nothing once the buffers have reached their size. Each user takes its own slots (a small
 * integer key); contents do not survive another call that uses the same slot on the same thread.
 */
public final class Scratch {
    public static final int GATE = 0, UP = 1, DOWN = 2, GATHER = 3, SCORES = 4, Q = 5, K = 6, V = 7, ATT = 8, ROUTER = 9,
            SHARED = 10, SHARED_GATE = 11, X = 12, XN = 13, Y = 14, H = 15, LATENT_Q = 16, LATENT_ROW = 17, LATENT_SUM = 18;
    private static final int SLOTS = 19;
    private static final ThreadLocal<float[][]> BUFFERS = ThreadLocal.withInitial(() -> new float[SLOTS][0]);

    private Scratch() {}

    /** A buffer of at least {@code n} floats for {@code slot} on this thread (not cleared). */
    public static float[] get(int slot, int n) {
        float[][] b = BUFFERS.get();
        if (b[slot].length < n) b[slot] = new float[Math.max(n, b[slot].length + b[slot].length / 2)];
        return b[slot];
    }
}
