package dev.moe4j.format.gguf;

/** GGUF metadata value types, with their type ids and the bytes one value takes (0: variable length). */
public enum GgufType {
    UINT8(0, 1), INT8(1, 1), UINT16(2, 2), INT16(3, 2), UINT32(4, 4), INT32(5, 4), FLOAT32(6, 4), BOOL(7, 1),
    STRING(8, 0), ARRAY(9, 0), UINT64(10, 8), INT64(11, 8), FLOAT64(12, 8);

    public final int id;
    /** Bytes of one value; for STRING and ARRAY the smallest possible encoding (an empty one). */
    final int minBytes;

    GgufType(int id, int size) {
        this.id = id;
        this.minBytes = id == 8 ? 8 : id == 9 ? 12 : size;
    }

    public boolean isInteger() {
        return this != FLOAT32 && this != FLOAT64 && this != BOOL && this != STRING && this != ARRAY;
    }

    public static GgufType fromId(int id) {
        for (GgufType t : values()) if (t.id == id) return t;
        return null;
    }
}
