package dev.moe4j.kernel;

import dev.moe4j.tensor.DType;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import static dev.moe4j.kernel.LittleEndian.FLOAT;
import static dev.moe4j.kernel.Species.B;
import static dev.moe4j.kernel.Species.F;
import static dev.moe4j.kernel.Species.I;
import static dev.moe4j.kernel.Species.L;

/**
 * float8 e4m3 ("e4m3fn": 1 sign, 4 exponent bits with bias 7, 3 mantissa bits, no infinities, S.1111.111 is NaN;
 * OCP 8-bit floating point spec), as DeepSeek-V3 and Qwen3 "-FP8" checkpoints store their weights with one
 * {@code weight_scale_inv} per block of rows × columns. {@link DType#F8_E4M3} is the stored byte, read only to be
 * repacked ({@link #repack}); {@link DType#F8_E4M3_B32}, what the kernels run, carries each 32 values' block
 * scale in front of them: a float32 s, then 32 e4m3 bytes, x = s · e4m3.
 *
 * <p>The vector decode puts the 7 magnitude bits at float bit 20 (exponent field = e4m3 exponent, mantissa
 * on top) and multiplies by 2^120 = 2^(127 − 7): exact for normals and, through float subnormals, for e4m3's.
 */
public final class Float8Kernels extends TypeKernels {
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final float TWO_120 = 0x1p120f;
    private static final boolean VECTORISED = B != null && L <= 32;

    Float8Kernels(DType type) {
        super(type);
        if (type != DType.F8_E4M3 && type != DType.F8_E4M3_B32) throw new IllegalArgumentException(type + " is not a float8 type");
    }

    /** The value of an e4m3 byte (NaN for S.1111.111). */
    static float decode(int b) {
        int e = (b >>> 3) & 0xF, m = b & 7;
        if (e == 15 && m == 7) return Float.NaN;
        float mag = e == 0 ? m * 0x1p-9f : Math.scalb(1 + m / 8f, e - 7);
        return (b & 0x80) != 0 ? -mag : mag;
    }

    /** Whether an e4m3 byte is NaN. */
    static boolean isNaN(int b) {
        return (b & 0x7F) == 0x7F;
    }

    @Override
    public float get(MemorySegment seg, long byteOffset, long i) {
        if (type == DType.F8_E4M3) return decode(seg.get(ValueLayout.JAVA_BYTE, byteOffset + i));
        long block = byteOffset + (i / 32) * 36;
        return seg.get(FLOAT, block) * decode(seg.get(ValueLayout.JAVA_BYTE, block + 4 + i % 32));
    }

    @Override
    public boolean isWeightType() {
        return type == DType.F8_E4M3_B32;
    }

    @Override
    protected void dequantizeBlocks(MemorySegment seg, long off, float[] dst, int dstOff, int n) {
        if (type != DType.F8_E4M3_B32 || !VECTORISED) {
            referenceDequantize(seg, off, dst, dstOff, n);
            return;
        }
        for (int b = 0; b < n / 32; b++) {
            long blk = off + 36L * b;
            FloatVector s = FloatVector.broadcast(F, seg.get(FLOAT, blk));
            int o = dstOff + 32 * b;
            for (int j = 0; j < 32; j += L) {
                IntVector q = (IntVector) ByteVector.fromMemorySegment(B, seg, blk + 4 + j, LE).convertShape(VectorOperators.B2I, I, 0);
                // Sign-extended byte: bit 31 is the sign; the low 7 bits the magnitude.
                FloatVector v = q.and(0x7F).lanewise(VectorOperators.LSHL, 20).or(q.and(0x80000000)).reinterpretAsFloats();
                v.mul(TWO_120).mul(s).intoArray(dst, o + j);
            }
        }
    }

    @Override
    protected float dotBlocks(MemorySegment seg, long off, float[] x, int xOff, int n) {
        if (type != DType.F8_E4M3_B32 || !VECTORISED) return referenceDot(seg, off, x, xOff, n);
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < n / 32; b++) {
            long blk = off + 36L * b;
            int xo = xOff + 32 * b;
            FloatVector sum = FloatVector.zero(F);
            for (int j = 0; j < 32; j += L) {
                IntVector q = (IntVector) ByteVector.fromMemorySegment(B, seg, blk + 4 + j, LE).convertShape(VectorOperators.B2I, I, 0);
                FloatVector v = q.and(0x7F).lanewise(VectorOperators.LSHL, 20).or(q.and(0x80000000)).reinterpretAsFloats();
                sum = v.mul(TWO_120).fma(FloatVector.fromArray(F, x, xo + j), sum);
            }
            acc = sum.fma(FloatVector.broadcast(F, seg.get(FLOAT, blk)), acc);
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    /**
     * Repacks a {@code [rows, cols]} e4m3 matrix with its block scales {@code scales[ceil(rows / blockRows),
     * ceil(cols / blockCols)]} (row-major floats, DeepSeek-V3's {@code weight_scale_inv}: x = e4m3 · scale) into
     * {@link DType#F8_E4M3_B32} rows at {@code dst}. {@code cols} and {@code blockCols} must be multiples of 32.
     *
     * @return the index of the first NaN byte, or −1 when every byte is a number
     */
    public static long repack(MemorySegment src, long srcOff, int rows, int cols, float[] scales, int blockRows, int blockCols,
                              MemorySegment dst, long dstOff) {
        if (cols % 32 != 0 || blockCols % 32 != 0)
            throw new IllegalArgumentException("columns " + cols + " and column block " + blockCols + " must be multiples of 32");
        int scaleCols = (cols + blockCols - 1) / blockCols;
        long firstNaN = -1;
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c += 32) {
                long at = dstOff + ((long) r * cols + c) / 32 * 36;
                dst.set(FLOAT, at, scales[(r / blockRows) * scaleCols + c / blockCols]);
                long from = srcOff + (long) r * cols + c;
                MemorySegment.copy(src, from, dst, at + 4, 32);
                if (firstNaN < 0) {
                    for (int j = 0; j < 32; j++) {
                        if (isNaN(src.get(ValueLayout.JAVA_BYTE, from + j))) {
                            firstNaN = (long) r * cols + c + j;
                            break;
                        }
                    }
                }
            }
        }
        return firstNaN;
    }
}
