package dev.moe4j.model;

/** Keys and values of every layer for the tokens seen so far, up to a fixed capacity. */
public final class KvCache {
    private final int capacity;
    private final int kvDim;
    final float[][] keys;    // [layer][capacity * kvDim]
    final float[][] values;
    private int length;

    public KvCache(int layers, int kvDim, int capacity) {
        this.capacity = capacity;
        this.kvDim = kvDim;
        this.keys = new float[layers][(long) capacity * kvDim > Integer.MAX_VALUE ? fail(capacity) : capacity * kvDim];
        this.values = new float[layers][capacity * kvDim];
    }

    private static int fail(int capacity) {
        throw new IllegalArgumentException("KV cache of " + capacity + " tokens is too large for one array");
    }

    public int capacity() { return capacity; }
    public int length() { return length; }
    public int kvDim() { return kvDim; }

    /** Forgets everything after the first {@code n} tokens (e.g. to reuse a shared prompt prefix). */
    public void truncate(int n) {
        if (n < 0 || n > length) throw new IllegalArgumentException("cannot truncate cache of " + length + " to " + n);
        length = n;
    }

    void advance(int n) {
        length += n;
    }
}
