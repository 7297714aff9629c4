package dev.moe4j.model;

/** Keys and values of every layer for the tokens seen so far, up to a fixed capacity. */
public final class KvCache {
    private final int capacity;
    private final int kvDim;
    final float[][] keys;    // [layer][capacity * kvDim]
    final float[][] values;
    private int length;

    public KvCache(int layers, int kvDim, int capacity) {
        this(uniform(layers, kvDim), uniform(layers, kvDim), capacity);
    }

    /**
     * A cache whose per-token key and value widths differ by layer (latent attention caches its latent
     * as the "key" and its rotary key as the "value").
     */
    public KvCache(int[] keyWidths, int[] valueWidths, int capacity) {
        this.capacity = capacity;
        this.kvDim = keyWidths.length == 0 ? 0 : keyWidths[0];
        this.keys = new float[keyWidths.length][];
        this.values = new float[valueWidths.length][];
        for (int l = 0; l < keyWidths.length; l++) {
            keys[l] = new float[size(capacity, keyWidths[l])];
            values[l] = new float[size(capacity, valueWidths[l])];
        }
    }

    private static int[] uniform(int layers, int width) {
        int[] w = new int[layers];
        java.util.Arrays.fill(w, width);
        return w;
    }

    private static int size(int capacity, int width) {
        long n = (long) capacity * width;
        return n > Integer.MAX_VALUE ? fail(capacity) : (int) n;
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
