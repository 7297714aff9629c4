package dev.moe4j.model;

/**
 * The rows of one forward pass grouped by sequence: segment s is rows {@code [offset[s], offset[s] + length[s])},
 * the next tokens of the sequence whose state is {@code cache[s]}. A prompt is one segment of many rows; a batched
 * decode step is one single-row segment per sequence. Attention runs per segment, everything else over all rows.
 * Refilled per pass (grow-only arrays, so a decode loop allocates nothing).
 */
final class RowSegments {
    int count, rows;
    int[] offset = new int[1], length = new int[1];
    KvCache[] cache = new KvCache[1];
    /** Per segment: {cos, sin} of the model's rotary embedding at its positions. */
    float[][][] ropeTables = {new float[2][]};

    void clear() {
        java.util.Arrays.fill(cache, 0, count, null);   // a finished sequence's cache is not kept alive by this thread
        count = rows = 0;
    }

    /** Appends a segment of {@code n} rows for the sequence of {@code c}. */
    void add(KvCache c, int n) {
        if (count == offset.length) grow();
        offset[count] = rows;
        length[count] = n;
        cache[count] = c;
        rows += n;
        count++;
    }

    private void grow() {
        int n = 2 * offset.length;
        offset = java.util.Arrays.copyOf(offset, n);
        length = java.util.Arrays.copyOf(length, n);
        cache = java.util.Arrays.copyOf(cache, n);
        float[][][] t = java.util.Arrays.copyOf(ropeTables, n);
        for (int s = ropeTables.length; s < n; s++) t[s] = new float[2][];
        ropeTables = t;
    }
}
