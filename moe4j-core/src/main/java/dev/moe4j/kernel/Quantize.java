package dev.moe4j.kernel;

import dev.moe4j.tensor.DType;

import java.lang.foreign.MemorySegment;

/**
 * Float to storage-type conversion: each type's encoder ({@link TypeKernels#encode}: F32, F16, BF16 and the
 * quantisers of Q8_0, Q4_0, Q4_K and Q6_K). The Q8_0 and Q4_0 quantisers are GGML's reference ones, rounding
 * for rounding, so moe4j-quantised files match llama.cpp's bit for bit.
 */
public final class Quantize {
    private Quantize() {}

    /** BF16 bits of {@code f}: the top half of the float, rounded to nearest even; NaN stays NaN. */
    public static short floatToBf16(float f) {
        return HalfKernels.floatToBf16(f);
    }

    public static float bf16ToFloat(short h) {
        return HalfKernels.bf16ToFloat(h);
    }

    /**
     * Stores {@code n} floats as type {@code t} at {@code dstOff}; {@link IllegalArgumentException} for a type
     * floats cannot be encoded as, or {@code n} not a whole number of its blocks.
     */
    public static void encode(DType t, float[] src, int off, int n, MemorySegment dst, long dstOff) {
        TypeKernels.of(t).encode(src, off, n, dst, dstOff);
    }

    /** {@code src} converted to type {@code t} as a new byte array. */
    public static byte[] encode(DType t, float[] src) {
        byte[] out = new byte[Math.toIntExact(t.bytesFor(src.length))];
        encode(t, src, 0, src.length, MemorySegment.ofArray(out), 0);
        return out;
    }
}
