package dev.moe4j.format.gguf;

import dev.moe4j.util.Moe4jException;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A cursor over a mapped GGUF header. Every read first checks that the bytes exist, and every count is
 * checked against what the remaining bytes could hold before anything is allocated for it, so a
 * corrupt or hostile header fails fast with a message instead of an OutOfMemoryError.
 */
final class GgufReader {
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** Arrays nested deeper than this are surely corrupt; the limit keeps recursion bounded. */
    private static final int MAX_DEPTH = 8;
    /**
     * Array elements the whole header may hold. Each becomes a boxed object on the heap (tens of bytes for a
     * byte of file), so the file's size alone is no bound; a 256k-token vocabulary with merges holds about 1M.
     */
    static final long MAX_ARRAY_ELEMENTS = 1 << 24;
    /** Longest string: chat templates, the longest strings in published files, are tens of kilobytes. */
    static final long MAX_STRING_BYTES = 1 << 24;

    private final Object file;
    private final MemorySegment seg;
    long pos;
    /** Element type of the outermost array read last, so callers can remember it. */
    GgufType lastArrayElementType;
    private long arrayElementsLeft = MAX_ARRAY_ELEMENTS;

    GgufReader(Object file, MemorySegment seg) {
        this.file = file;
        this.seg = seg;
    }

    Moe4jException error(String message) {
        return new Moe4jException(file + ": " + message);
    }

    long remaining() {
        return seg.byteSize() - pos;
    }

    void need(long n, String field) {
        if (n < 0 || n > remaining())
            throw error("file is truncated: " + field + " needs " + (n < 0 ? Long.toUnsignedString(n) : n)
                    + " bytes at offset " + pos + " but only " + remaining() + " remain");
    }

    long u32(String field) {
        need(4, field);
        long v = Integer.toUnsignedLong(seg.get(INT, pos));
        pos += 4;
        return v;
    }

    long u64(String field) {
        need(8, field);
        long v = seg.get(LONG, pos);
        pos += 8;
        return v;
    }

    /** A u64 count of items each at least {@code minItemBytes} long; checked against the file. */
    long count(String field, long minItemBytes) {
        long n = u64(field);
        if (n < 0 || n > remaining() / minItemBytes)
            throw error(field + " " + Long.toUnsignedString(n) + " is more than the remaining " + remaining() + " bytes could hold");
        return n;
    }

    String string(String field) {
        long len = u64(field + " length");
        if (len < 0 || len > remaining())
            throw error(field + " length " + Long.toUnsignedString(len) + " is more than the remaining " + remaining() + " bytes");
        if (len > MAX_STRING_BYTES)
            throw error(field + " length " + len + " is more than the " + MAX_STRING_BYTES + " bytes accepted for a string");
        byte[] b = seg.asSlice(pos, len).toArray(ValueLayout.JAVA_BYTE);
        pos += len;
        return new String(b, StandardCharsets.UTF_8);
    }

    GgufType type(String field) {
        long id = u32(field + " type");
        GgufType t = GgufType.fromId((int) id);
        if (t == null || id > Integer.MAX_VALUE) throw error(field + " has unknown value type " + id);
        return t;
    }

    Object value(GgufType t, String field, int depth) {
        need(t.minBytes, field);
        Object v = switch (t) {
            case UINT8 -> (long) (seg.get(ValueLayout.JAVA_BYTE, pos) & 0xFF);
            case INT8 -> (long) seg.get(ValueLayout.JAVA_BYTE, pos);
            case UINT16 -> (long) (seg.get(SHORT, pos) & 0xFFFF);
            case INT16 -> (long) seg.get(SHORT, pos);
            case UINT32 -> Integer.toUnsignedLong(seg.get(INT, pos));
            case INT32 -> (long) seg.get(INT, pos);
            case FLOAT32 -> Float.intBitsToFloat(seg.get(INT, pos));
            case BOOL -> {
                byte b = seg.get(ValueLayout.JAVA_BYTE, pos);
                if (b != 0 && b != 1) throw error(field + " is a bool with byte value " + b);
                yield b == 1;
            }
            case UINT64, INT64 -> seg.get(LONG, pos);
            case FLOAT64 -> Double.longBitsToDouble(seg.get(LONG, pos));
            case STRING -> null;
            case ARRAY -> null;
        };
        if (t == GgufType.STRING) return string(field);
        if (t == GgufType.ARRAY) return array(field, depth);
        pos += t.minBytes;
        return v;
    }

    private List<Object> array(String field, int depth) {
        if (depth >= MAX_DEPTH) throw error(field + " nests arrays more than " + MAX_DEPTH + " deep");
        GgufType et = type(field + " element");
        if (depth == 0) lastArrayElementType = et;
        long n = count(field + " array length", et.minBytes);
        if (n > arrayElementsLeft)
            throw error(field + " array length " + n + " is more than the " + MAX_ARRAY_ELEMENTS + " array elements accepted in a header");
        arrayElementsLeft -= n;
        List<Object> out = new ArrayList<>((int) Math.min(n, 1 << 16));
        for (long i = 0; i < n; i++) out.add(value(et, field, depth + 1));
        return java.util.Collections.unmodifiableList(out);
    }
}
