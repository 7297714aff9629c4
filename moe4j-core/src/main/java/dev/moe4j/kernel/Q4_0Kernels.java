package dev.moe4j.kernel;

import dev.moe4j.tensor.DType;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import static dev.moe4j.kernel.LittleEndian.SHORT;
import static dev.moe4j.kernel.Species.B;
import static dev.moe4j.kernel.Species.F;
import static dev.moe4j.kernel.Species.L;

/**
 * GGML's Q4_0: blocks of 32 values, an f16 scale d and 16 bytes of 4-bit q (value j in the low nibble of
 * byte j, value j + 16 in its high nibble), x = d · (q − 8). The quantiser is GGML's reference
 * ({@code quantize_row_q4_0_ref} in ggml-quants.c), rounding for rounding. Its repacked in-memory form, used
 * for inference, is {@link PackedQ4}.
 */
final class Q4_0Kernels extends TypeKernels {
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    /** The vector kernels take a block's 16 bytes in whole byte vectors. */
    private static final boolean VECTORISED = B != null && L <= 16;

    Q4_0Kernels() {
        super(DType.Q4_0);
    }

    @Override
    public float get(MemorySegment seg, long byteOffset, long i) {
        long block = byteOffset + (i / 32) * 18;
        float d = Float.float16ToFloat(seg.get(SHORT, block));
        int j = (int) (i % 32);
        int b = seg.get(ValueLayout.JAVA_BYTE, block + 2 + (j & 15)) & 0xFF;
        int q = j < 16 ? b & 0xF : b >>> 4;
        return d * (q - 8);
    }

    @Override
    protected void dequantizeBlocks(MemorySegment seg, long off, float[] dst, int dstOff, int n) {
        if (!VECTORISED) {
            for (int b = 0; b < n / 32; b++) {
                long blk = off + 18L * b;
                float d = Float.float16ToFloat(seg.get(SHORT, blk));
                int o = dstOff + 32 * b;
                for (int j = 0; j < 16; j++) {
                    int q = seg.get(ValueLayout.JAVA_BYTE, blk + 2 + j) & 0xFF;
                    dst[o + j] = d * ((q & 0xF) - 8);
                    dst[o + j + 16] = d * ((q >>> 4) - 8);
                }
            }
            return;
        }
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

    @Override
    protected float dotBlocks(MemorySegment seg, long off, float[] x, int xOff, int n) {
        if (!VECTORISED) return referenceDot(seg, off, x, xOff, n);
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

    @Override
    public boolean canEncode() {
        return true;
    }

    /**
     * The scale comes from the value of largest magnitude, signed, so that value maps exactly to q = 0 (−8)
     * and the grid's extra negative step is used on its side.
     */
    @Override
    protected void encodeBlocks(float[] src, int off, int n, MemorySegment dst, long dstOff) {
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

    @Override
    public int ggufFileType() {
        return 2; // LLAMA_FTYPE_MOSTLY_Q4_0
    }
}
