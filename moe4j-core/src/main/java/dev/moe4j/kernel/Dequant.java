package dev.moe4j.kernel;

import dev.moe4j.tensor.DType;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import static dev.moe4j.kernel.ScalarKernels.FLOAT;
import static dev.moe4j.kernel.ScalarKernels.SHORT;

/**
 * Reading weights of any {@link DType} as floats: whole rows ({@link #dequantize}), single elements
 * ({@link #get}) and the row·vector product ({@link #dot}) that matmul is built on. Vectorised with the
 * Vector API; {@link ScalarKernels} is the reference these must agree with.
 *
 * <p>Rows start at a byte offset into a segment; for block types that offset is a block boundary and
 * {@code n} a multiple of 32.
 */
public final class Dequant {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final int L = F.length();
    /** Same lane count as F but 16/8-bit lanes, so a load converts lane for lane into F. */
    static final VectorSpecies<Short> S = speciesOf(short.class, L * 16);
    static final VectorSpecies<Byte> B = speciesOf(byte.class, L * 8);
    static final VectorSpecies<Integer> I = F.withLanes(int.class); // a constant, so conversions get intrinsified
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    private Dequant() {}

    /** The species of this element type and total bits, or null where no vector shape has that size. */
    private static <E> VectorSpecies<E> speciesOf(Class<E> type, int bits) {
        try {
            return VectorSpecies.of(type, VectorShape.forBitSize(bits));
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    static void checkBlocks(DType t, long n) {
        if (n < 0 || n % t.blockSize != 0)
            throw new IllegalArgumentException(t + ": " + n + " values is not a multiple of the block size " + t.blockSize);
    }

    /** Element {@code i} of the values starting at {@code byteOffset}. */
    public static float get(DType t, MemorySegment seg, long byteOffset, long i) {
        return ScalarKernels.get(t, seg, byteOffset, i);
    }

    /** Converts {@code n} values starting at {@code byteOffset} into {@code dst[dstOff..]}. */
    public static void dequantize(DType t, MemorySegment seg, long byteOffset, float[] dst, int dstOff, int n) {
        checkBlocks(t, n);
        switch (t) {
            case F32 -> MemorySegment.copy(seg, FLOAT, byteOffset, dst, dstOff, n);
            case F16, BF16 -> {
                int i = 0;
                if (S != null) {
                    for (int end = n - n % L; i < end; i += L)
                        halfToFloat(t, seg, byteOffset + 2L * i).intoArray(dst, dstOff + i);
                }
                for (; i < n; i++) dst[dstOff + i] = ScalarKernels.get(t, seg, byteOffset, i);
            }
            case Q8_0 -> {
                if (B != null && L <= 32) { dequantizeQ8_0(seg, byteOffset, dst, dstOff, n); return; }
                for (int b = 0; b < n / 32; b++) {
                    long blk = byteOffset + 34L * b;
                    float d = Float.float16ToFloat(seg.get(SHORT, blk));
                    int o = dstOff + 32 * b;
                    for (int j = 0; j < 32; j++) dst[o + j] = d * seg.get(ValueLayout.JAVA_BYTE, blk + 2 + j);
                }
            }
            case Q4_0 -> {
                if (B != null && L <= 16) { dequantizeQ4_0(seg, byteOffset, dst, dstOff, n); return; }
                for (int b = 0; b < n / 32; b++) {
                    long blk = byteOffset + 18L * b;
                    float d = Float.float16ToFloat(seg.get(SHORT, blk));
                    int o = dstOff + 32 * b;
                    for (int j = 0; j < 16; j++) {
                        int q = seg.get(ValueLayout.JAVA_BYTE, blk + 2 + j) & 0xFF;
                        dst[o + j] = d * ((q & 0xF) - 8);
                        dst[o + j + 16] = d * ((q >>> 4) - 8);
                    }
                }
            }
            case Q4_K -> KQuants.dequantizeQ4_K(seg, byteOffset, dst, dstOff, n);
            case Q6_K -> KQuants.dequantizeQ6_K(seg, byteOffset, dst, dstOff, n);
            default -> ScalarKernels.dequantize(t, seg, byteOffset, dst, dstOff, n);
        }
    }

    /** Sum over i of row[i] * x[xOff + i] for the {@code n} values starting at {@code byteOffset}. */
    public static float dot(DType t, MemorySegment seg, long byteOffset, float[] x, int xOff, int n) {
        checkBlocks(t, n);
        return switch (t) {
            case F32 -> dotF32(seg, byteOffset, x, xOff, n);
            case F16, BF16 -> S == null ? ScalarKernels.dot(t, seg, byteOffset, x, xOff, n) : dotHalf(t, seg, byteOffset, x, xOff, n);
            case Q8_0 -> B == null || L > 32 ? ScalarKernels.dot(t, seg, byteOffset, x, xOff, n) : dotQ8_0(seg, byteOffset, x, xOff, n);
            case Q4_0 -> B == null || L > 16 ? ScalarKernels.dot(t, seg, byteOffset, x, xOff, n) : dotQ4_0(seg, byteOffset, x, xOff, n);
            case Q4_K -> B == null || L > 16 ? ScalarKernels.dot(t, seg, byteOffset, x, xOff, n) : KQuants.dotQ4_K(seg, byteOffset, x, xOff, n);
            case Q6_K -> B == null || L > 16 ? ScalarKernels.dot(t, seg, byteOffset, x, xOff, n) : KQuants.dotQ6_K(seg, byteOffset, x, xOff, n);
            default -> ScalarKernels.dot(t, seg, byteOffset, x, xOff, n);
        };
    }

    /** out[outOff + r] = dot(row r, x) for rows of {@code cols} values laid out back to back. */
    public static void matvec(DType t, MemorySegment seg, long byteOffset, int rows, int cols,
                              float[] x, int xOff, float[] out, int outOff) {
        long rowBytes = t.bytesFor(cols);
        for (int r = 0; r < rows; r++) out[outOff + r] = dot(t, seg, byteOffset + r * rowBytes, x, xOff, cols);
    }

    private static float dotF32(MemorySegment seg, long off, float[] x, int xOff, int n) {
        // Two accumulators hide FMA latency.
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F);
        int i = 0;
        for (int end = n - n % (2 * L); i < end; i += 2 * L) {
            a0 = FloatVector.fromMemorySegment(F, seg, off + 4L * i, LE).fma(FloatVector.fromArray(F, x, xOff + i), a0);
            a1 = FloatVector.fromMemorySegment(F, seg, off + 4L * (i + L), LE).fma(FloatVector.fromArray(F, x, xOff + i + L), a1);
        }
        for (int end = n - n % L; i < end; i += L)
            a0 = FloatVector.fromMemorySegment(F, seg, off + 4L * i, LE).fma(FloatVector.fromArray(F, x, xOff + i), a0);
        float s = a0.add(a1).reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) s += seg.get(FLOAT, off + 4L * i) * x[xOff + i];
        return s;
    }

    private static float dotHalf(DType t, MemorySegment seg, long off, float[] x, int xOff, int n) {
        FloatVector acc = FloatVector.zero(F);
        int i = 0;
        for (int end = n - n % L; i < end; i += L)
            acc = halfToFloat(t, seg, off + 2L * i).fma(FloatVector.fromArray(F, x, xOff + i), acc);
        float s = acc.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) s += ScalarKernels.get(t, seg, off, i) * x[xOff + i];
        return s;
    }

    /** L half-precision values (F16 or BF16) at {@code off} as floats. */
    static FloatVector halfToFloat(DType t, MemorySegment seg, long off) {
        IntVector h = (IntVector) ShortVector.fromMemorySegment(S, seg, off, LE)
                .convertShape(VectorOperators.S2I, I, 0);
        if (t == DType.BF16) return h.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
        // IEEE half: shifting exponent+mantissa into float position and scaling by 2^(127-15) rebiases the
        // exponent and handles subnormals exactly; only Inf/NaN (exponent 31) need their exponent set to 255.
        IntVector mag = h.and(0x7FFF).lanewise(VectorOperators.LSHL, 13);
        IntVector sign = h.and(0x8000).lanewise(VectorOperators.LSHL, 16);
        IntVector bits = mag.reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts();
        VectorMask<Integer> special = h.and(0x7C00).eq(0x7C00);
        bits = bits.blend(mag.or(0x7F800000), special);
        return bits.or(sign).reinterpretAsFloats();
    }

    // Prefill dequantises weight rows into a float tile once per 4 tokens; doing it lane-parallel keeps that
    // cost well below the tile's multiply-adds.
    private static void dequantizeQ8_0(MemorySegment seg, long off, float[] dst, int dstOff, int n) {
        for (int b = 0; b < n / 32; b++) {
            long blk = off + 34L * b;
            FloatVector d = FloatVector.broadcast(F, Float.float16ToFloat(seg.get(SHORT, blk)));
            int o = dstOff + 32 * b;
            for (int j = 0; j < 32; j += L) {
                ((FloatVector) ByteVector.fromMemorySegment(B, seg, blk + 2 + j, LE).convertShape(VectorOperators.B2F, F, 0))
                        .mul(d).intoArray(dst, o + j);
            }
        }
    }

    private static void dequantizeQ4_0(MemorySegment seg, long off, float[] dst, int dstOff, int n) {
        for (int b = 0; b < n / 32; b++) {
            long blk = off + 18L * b;
            FloatVector d = FloatVector.broadcast(F, Float.float16ToFloat(seg.get(SHORT, blk)));
            int o = dstOff + 32 * b;
            for (int j = 0; j < 16; j += L) {
                ByteVector q = ByteVector.fromMemorySegment(B, seg, blk + 2 + j, LE);
                ((FloatVector) q.and((byte) 0xF).sub((byte) 8).convertShape(VectorOperators.B2F, F, 0)).mul(d).intoArray(dst, o + j);
                ((FloatVector) q.lanewise(VectorOperators.LSHR, 4).sub((byte) 8).convertShape(VectorOperators.B2F, F, 0))
                        .mul(d).intoArray(dst, o + j + 16);
            }
        }
    }

    private static float dotQ8_0(MemorySegment seg, long off, float[] x, int xOff, int n) {
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < n / 32; b++) {
            long blk = off + 34L * b;
            float d = Float.float16ToFloat(seg.get(SHORT, blk));
            int xo = xOff + 32 * b;
            FloatVector s = FloatVector.zero(F);
            for (int j = 0; j < 32; j += L) {
                FloatVector q = (FloatVector) ByteVector.fromMemorySegment(B, seg, blk + 2 + j, LE)
                        .convertShape(VectorOperators.B2F, F, 0);
                s = q.fma(FloatVector.fromArray(F, x, xo + j), s);
            }
            acc = s.fma(FloatVector.broadcast(F, d), acc);
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    private static float dotQ4_0(MemorySegment seg, long off, float[] x, int xOff, int n) {
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < n / 32; b++) {
            long blk = off + 18L * b;
            float d = Float.float16ToFloat(seg.get(SHORT, blk));
            int xo = xOff + 32 * b;
            FloatVector s = FloatVector.zero(F);
            for (int j = 0; j < 16; j += L) {
                ByteVector q = ByteVector.fromMemorySegment(B, seg, blk + 2 + j, LE);
                // Low nibbles are elements j.., high nibbles elements j+16..; LSHR on bytes is unsigned.
                FloatVector lo = (FloatVector) q.and((byte) 0xF).sub((byte) 8).convertShape(VectorOperators.B2F, F, 0);
                FloatVector hi = (FloatVector) q.lanewise(VectorOperators.LSHR, 4).sub((byte) 8).convertShape(VectorOperators.B2F, F, 0);
                s = lo.fma(FloatVector.fromArray(F, x, xo + j), s);
                s = hi.fma(FloatVector.fromArray(F, x, xo + j + 16), s);
            }
            acc = s.fma(FloatVector.broadcast(F, d), acc);
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }
}
