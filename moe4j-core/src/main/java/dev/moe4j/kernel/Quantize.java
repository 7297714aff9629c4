package dev.moe4j.kernel;

import dev.moe4j.tensor.DType;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static dev.moe4j.kernel.ScalarKernels.FLOAT;
import static dev.moe4j.kernel.ScalarKernels.SHORT;

/**
 * Float to storage-type conversion: F16, BF16 and GGML's reference Q8_0/Q4_0 quantisers
 * ({@code quantize_row_q8_0_ref}, {@code quantize_row_q4_0_ref} in ggml-quants.c), reproduced rounding
 * for rounding so moe4j-quantised files match llama.cpp's bit for bit.
 */
public final class Quantize {
    private Quantize() {}

    /** BF16 bits of {@code f}: the top half of the float, rounded to nearest even; NaN stays NaN. */
    public static short floatToBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if (Float.isNaN(f)) return (short) ((bits >>> 16) | 0x40); // keep it a (quiet) NaN after truncation
        bits += 0x7FFF + ((bits >>> 16) & 1);
        return (short) (bits >>> 16);
    }

    public static float bf16ToFloat(short h) {
        return Float.intBitsToFloat(h << 16);
    }

    /** C's roundf: halves go away from zero (Math.round would send -2.5 to -2). */
    private static int roundHalfAway(float v) {
        double a = Math.floor(Math.abs((double) v) + 0.5);
        return (int) (v < 0 ? -a : a);
    }

    /** Quantises {@code n} (a multiple of 32) floats into {@code n/32} Q8_0 blocks at {@code dstOff}. */
    public static void quantizeQ8_0(float[] src, int off, int n, MemorySegment dst, long dstOff) {
        Dequant.checkBlocks(DType.Q8_0, n);
        for (int b = 0; b < n / 32; b++) {
            int o = off + 32 * b;
            float amax = 0;
            for (int j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(src[o + j]));
            float d = amax / 127;
            float id = d != 0 ? 1 / d : 0;
            long blk = dstOff + 34L * b;
            dst.set(SHORT, blk, Float.floatToFloat16(d));
            for (int j = 0; j < 32; j++) dst.set(ValueLayout.JAVA_BYTE, blk + 2 + j, (byte) roundHalfAway(src[o + j] * id));
        }
    }

    public static void quantizeQ8_0(float[] src, int off, int n, byte[] dst, int dstOff) {
        quantizeQ8_0(src, off, n, MemorySegment.ofArray(dst), dstOff);
    }

    /**
     * Quantises into Q4_0 blocks. The scale comes from the value of largest magnitude, signed, so that
     * value maps exactly to q = 0 (-8) and the grid's extra negative step is used on its side.
     */
    public static void quantizeQ4_0(float[] src, int off, int n, MemorySegment dst, long dstOff) {
        Dequant.checkBlocks(DType.Q4_0, n);
        for (int b = 0; b < n / 32; b++) {
            int o = off + 32 * b;
            float amax = 0, max = 0;
            for (int j = 0; j < 32; j++) {
                float v = src[o + j];
                if (amax < Math.abs(v)) {
                    amax = Math.abs(v);
                    max = v;
                }
            }
            float d = max / -8;
            float id = d != 0 ? 1 / d : 0;
            long blk = dstOff + 18L * b;
            dst.set(SHORT, blk, Float.floatToFloat16(d));
            for (int j = 0; j < 16; j++) {
                // (int) truncates like GGML's (int8_t) cast; +8.5 makes it round to nearest.
                int q0 = Math.min(15, (int) (src[o + j] * id + 8.5f));
                int q1 = Math.min(15, (int) (src[o + j + 16] * id + 8.5f));
                dst.set(ValueLayout.JAVA_BYTE, blk + 2 + j, (byte) (q0 | q1 << 4));
            }
        }
    }

    public static void quantizeQ4_0(float[] src, int off, int n, byte[] dst, int dstOff) {
        quantizeQ4_0(src, off, n, MemorySegment.ofArray(dst), dstOff);
    }

    /** Stores {@code n} floats as type {@code t} (F32, F16, BF16, Q8_0, Q4_0, Q4_K or Q6_K) at {@code dstOff}. */
    public static void encode(DType t, float[] src, int off, int n, MemorySegment dst, long dstOff) {
        switch (t) {
            case F32 -> MemorySegment.copy(src, off, dst, FLOAT, dstOff, n);
            case F16 -> {
                for (int i = 0; i < n; i++) dst.set(SHORT, dstOff + 2L * i, Float.floatToFloat16(src[off + i]));
            }
            case BF16 -> {
                for (int i = 0; i < n; i++) dst.set(SHORT, dstOff + 2L * i, floatToBf16(src[off + i]));
            }
            case Q8_0 -> quantizeQ8_0(src, off, n, dst, dstOff);
            case Q4_0 -> quantizeQ4_0(src, off, n, dst, dstOff);
            case Q4_K -> KQuants.quantizeQ4_K(src, off, n, dst, dstOff);
            case Q6_K -> KQuants.quantizeQ6_K(src, off, n, dst, dstOff);
            default -> throw new IllegalArgumentException("cannot encode floats as " + t);
        }
    }

    /** {@code src} converted to type {@code t} as a new byte array. */
    public static byte[] encode(DType t, float[] src) {
        byte[] out = new byte[Math.toIntExact(t.bytesFor(src.length))];
        encode(t, src, 0, src.length, MemorySegment.ofArray(out), 0);
        return out;
    }
}
