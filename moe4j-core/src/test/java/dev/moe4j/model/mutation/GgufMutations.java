package dev.moe4j.model.mutation;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Every field of a GGUF header that a one-field change can damage, and the damages: counts, lengths and
 * value types of metadata; numeric metadata set to values no model has (0, -1, 2^31-1, NaN, ±inf); each
 * tensor's name, dimension count, dimensions, type and offset. Damages that give another valid model (a
 * different epsilon in range, a flipped bool) are not made: no header check could tell them from the original.
 */
final class GgufMutations {
    private static final int[] TENSOR_TYPES = {0, 1, 2, 8, 12, 14, 26, 27, 28, 30, 3, 99};
    private static final int VALUE_TYPES = 13;

    private final String file;
    private final byte[] b;
    private final ByteBuffer in;
    private final Random random;
    private final List<Mutation> out = new ArrayList<>();

    private GgufMutations(String file, byte[] b, Random random) {
        this.file = file;
        this.b = b;
        this.in = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        this.random = random;
    }

    /** All mutations of the header of {@code bytes}, a valid GGUF file called {@code file} in its checkpoint. */
    static List<Mutation> of(String file, byte[] bytes, Random random) {
        GgufMutations m = new GgufMutations(file, bytes, random);
        m.walk();
        return m.out;
    }

    private void add(String what, int pos, long value, int width) {
        if (value == read(pos, width)) return;
        out.add(Mutation.patch(file, what + " = " + value, b, pos, Mutation.le(value, width)));
    }

    private long read(int pos, int width) {
        return switch (width) {
            case 1 -> b[pos] & 0xFFL;
            case 2 -> in.getShort(pos) & 0xFFFFL;
            case 4 -> in.getInt(pos) & 0xFFFFFFFFL;
            default -> in.getLong(pos);
        };
    }

    private void walk() {
        add("version", 4, 1, 4);
        add("version", 4, 0x03000000L, 4);
        long tensors = in.getLong(8), kvs = in.getLong(16);
        for (long v : new long[] {tensors + 1, tensors - 1, 0, 1L << 40}) add("tensor count", 8, v, 8);
        for (long v : new long[] {kvs + 1, kvs - 1, 1L << 40}) add("metadata count", 16, v, 8);
        int pos = 24;
        long alignment = 32;
        for (long i = 0; i < kvs; i++) {
            int keyAt = pos;
            String key = string(pos);
            lengths("length of key '" + key + "'", keyAt);
            pos += 8 + utf8Length(key);
            int type = in.getInt(pos);
            for (int t = 0; t <= VALUE_TYPES; t++) add("value type of '" + key + "'", pos, t, 4);
            if (key.equals("general.alignment")) alignment = in.getInt(pos + 4) & 0xFFFFFFFFL;
            pos = value(key, pos + 4, type, true);
        }
        List<int[]> infos = new ArrayList<>();   // {name length position, offset position}
        for (long i = 0; i < tensors; i++) {
            int nameAt = pos;
            String name = string(pos);
            lengths("name length of tensor '" + name + "'", nameAt);
            int nameBytes = utf8Length(name);
            for (int k = 0; k < 2 && nameBytes > 0; k++) {
                int at = nameAt + 8 + random.nextInt(nameBytes);
                char c = "abcdefghijklmnopqrstuvwxyz0123456789._".charAt(random.nextInt(38));
                if (b[at] != c) out.add(Mutation.patch(file, "tensor '" + name + "' renamed (byte " + (at - nameAt - 8) + " = '" + c + "')",
                        b, at, new byte[] {(byte) c}));
            }
            pos += 8 + nameBytes;
            String what = "tensor '" + name + "'";
            int dims = in.getInt(pos);
            for (long v : new long[] {dims + 1, dims - 1, 0, 5}) add(what + " dimension count", pos, v, 4);
            pos += 4;
            for (int d = 0; d < dims; d++, pos += 8) {
                long n = in.getLong(pos);
                for (long v : new long[] {n + 1, n - 1, 2 * n, n / 2, 0, 1L << 40, -1}) {
                    if (v != n - 1 || n > 1) add(what + " dimension " + d, pos, v, 8);
                }
            }
            for (int t : TENSOR_TYPES) add(what + " type", pos, t, 4);
            pos += 4;
            long offset = in.getLong(pos);
            for (long v : new long[] {offset + alignment, offset - alignment, offset + 1, 0, 1L << 62}) {
                if (v >= 0) add(what + " offset", pos, v, 8);
            }
            infos.add(new int[] {nameAt, pos});
            pos += 8;
        }
        // A tensor pointed at another's data (the example: token_embd.weight at output.weight's offset).
        for (int[] info : infos) {
            int[] other = infos.get(random.nextInt(infos.size()));
            add("tensor '" + string(info[0]) + "' offset, set to that of '" + string(other[0]) + "'", info[1], in.getLong(other[1]), 8);
        }
    }

    /** A string's length set one too long, one too short, and far past the file. */
    private void lengths(String what, int at) {
        long n = in.getLong(at);
        for (long v : new long[] {n + 1, n - 1, 1L << 40, -1}) add(what, at, v, 8);
    }

    /** Mutates (when {@code mutate}) and skips one value; returns the position after it. */
    private int value(String key, int pos, int type, boolean mutate) {
        String what = "value of '" + key + "'";
        switch (type) {
            case 0, 1, 7 -> {
                if (mutate) for (long v : new long[] {2, 0xFF}) add(what, pos, v, 1);
                return pos + 1;
            }
            case 2, 3 -> {
                if (mutate) for (long v : new long[] {0, 0xFFFF, 0x8000}) add(what, pos, v, 2);
                return pos + 2;
            }
            case 4, 5 -> {
                if (mutate) for (long v : new long[] {0, 0xFFFFFFFFL, 0x7FFFFFFFL, 0x80000000L}) add(what, pos, v, 4);
                return pos + 4;
            }
            case 6 -> {
                if (mutate) {
                    for (float f : new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 0f, -1f}) {
                        add(what + " (" + f + ")", pos, Float.floatToRawIntBits(f) & 0xFFFFFFFFL, 4);
                    }
                }
                return pos + 4;
            }
            case 10, 11 -> {
                if (mutate) for (long v : new long[] {0, -1, Long.MAX_VALUE, 1L << 40}) add(what, pos, v, 8);
                return pos + 8;
            }
            case 12 -> {
                if (mutate) {
                    for (double d : new double[] {Double.NaN, Double.POSITIVE_INFINITY, 0, -1}) {
                        add(what + " (" + d + ")", pos, Double.doubleToRawLongBits(d), 8);
                    }
                }
                return pos + 8;
            }
            case 8 -> {
                if (mutate) lengths("length of " + what, pos);
                return pos + 8 + utf8Length(string(pos));
            }
            case 9 -> {
                int elementType = in.getInt(pos);
                long n = in.getLong(pos + 4);
                if (mutate) {
                    for (int t = 0; t <= VALUE_TYPES; t++) add("element type of '" + key + "'", pos, t, 4);
                    for (long v : new long[] {n + 1, n - 1, 0, 1L << 40}) add("array length of '" + key + "'", pos + 4, v, 8);
                }
                int p = pos + 12;
                for (long i = 0; i < n; i++) p = value(key + "[" + i + "]", p, elementType, mutate && i == n / 2);
                return p;
            }
            default -> throw new IllegalStateException("value type " + type + " in a reference file");
        }
    }

    private String string(int pos) {
        int n = (int) in.getLong(pos);
        return new String(b, pos + 8, n, StandardCharsets.UTF_8);
    }

    private static int utf8Length(String s) {
        return s.getBytes(StandardCharsets.UTF_8).length;
    }
}
