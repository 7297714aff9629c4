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
 * GGML's Q4_1 ({@code block_q4_1} in ggml-common.h): blocks of 32 values, an f16 scale d, an f16 offset m and
 * 16 bytes of 4-bit q (value j in the low nibble of byte j, value j + 16 in its high nibble); x = d·q + m,
 * rounded as gguf-py's {@code Q4_1.dequantize_blocks} rounds (the product, then the sum). The quantiser is GGML's
 * reference ({@code quantize_row_q4_1_ref} in ggml-quants.c): d = (max − min)/15, m = min.
 */
final class Q4_1Kernels extends TileDotKernels {
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfByte BYTE = ValueLayout.JAVA_BYTE;
    /** The vector kernel takes a block's 16 bytes in whole byte vectors. */
    private static final boolean VECTORISED = B != null && L <= 16;

    Q4_1Kernels() {
        super(DType.Q4_1);
    }

    @Override
    public float get(MemorySegment seg, long byteOffset, long i) {
        long block = byteOffset + (i / 32) * 20;
        int j = (int) (i % 32);
        int b = seg.get(BYTE, block + 4 + (j & 15)) & 0xFF;
        int q = j < 16 ? b & 0xF : b >>> 4;
        float d = Float.float16ToFloat(seg.get(SHORT, block)), m = Float.float16ToFloat(seg.get(SHORT, block + 2));
        return d * q + m;
    }

    @Override
    protected void dequantizeBlocks(MemorySegment seg, long off, float[] dst, int dstOff, int n) {
        if (!VECTORISED) { referenceDequantize(seg, off, dst, dstOff, n); return; }
        for (int b = 0; b < n / 32; b++) {
            long blk = off + 20L * b;
            FloatVector d = FloatVector.broadcast(F, Float.float16ToFloat(seg.get(SHORT, blk)));
            FloatVector m = FloatVector.broadcast(F, Float.float16ToFloat(seg.get(SHORT, blk + 2)));
            int o = dstOff + 32 * b;
            for (int j = 0; j < 16; j += L) {
                ByteVector q = ByteVector.fromMemorySegment(B, seg, blk + 4 + j, LE);
                ((FloatVector) q.and((byte) 0xF).convertShape(VectorOperators.B2F, F, 0)).mul(d).add(m).intoArray(dst, o + j);
                ((FloatVector) q.lanewise(VectorOperators.LSHR, 4).convertShape(VectorOperators.B2F, F, 0)).mul(d).add(m)
                        .intoArray(dst, o + j + 16);
            }
        }
    }

    /** Fused decode kernel: a block adds d·Σ q·x + m·Σ x, so the loop multiply-adds raw nibbles and sums x. */
    @Override
    protected float dotBlocks(MemorySegment seg, long off, float[] x, int xOff, int n) {
        if (!VECTORISED) return referenceDot(seg, off, x, xOff, n);
        FloatVector acc = FloatVector.zero(F), accM = FloatVector.zero(F);
        for (int b = 0; b < n / 32; b++) {
            long blk = off + 20L * b;
            int xo = xOff + 32 * b;
            FloatVector s = FloatVector.zero(F), xs = FloatVector.zero(F);
            for (int j = 0; j < 16; j += L) {
                ByteVector q = ByteVector.fromMemorySegment(B, seg, blk + 4 + j, LE);
                FloatVector xa = FloatVector.fromArray(F, x, xo + j), xb = FloatVector.fromArray(F, x, xo + 16 + j);
                s = ((FloatVector) q.and((byte) 0xF).convertShape(VectorOperators.B2F, F, 0)).fma(xa, s);
                s = ((FloatVector) q.lanewise(VectorOperators.LSHR, 4).convertShape(VectorOperators.B2F, F, 0)).fma(xb, s);
                xs = xs.add(xa).add(xb);
            }
            int dm = seg.get(LittleEndian.INT, blk);
            acc = s.fma(FloatVector.broadcast(F, Float.float16ToFloat((short) dm)), acc);
            accM = xs.fma(FloatVector.broadcast(F, Float.float16ToFloat((short) (dm >>> 16))), accM);
        }
        return acc.add(accM).reduceLanes(VectorOperators.ADD);
    }

    @Override
    public boolean canEncode() {
        return true;
    }

    @Override
    protected void encodeBlocks(float[] src, int off, int n, MemorySegment dst, long dstOff) {
        for (int b = 0; b < n / 32; b++) {
            int o = off + 32 * b;
            float min = Float.MAX_VALUE, max = -Float.MAX_VALUE;
            for (int j = 0; j < 32; j++) {
                min = Math.min(min, src[o + j]);
                max = Math.max(max, src[o + j]);
            }
            float d = (max - min) / 15, id = d != 0 ? 1 / d : 0;
            long blk = dstOff + 20L * b;
            dst.set(SHORT, blk, Float.floatToFloat16(d));
            dst.set(SHORT, blk + 2, Float.floatToFloat16(min));
            for (int j = 0; j < 16; j++) {
                // (int) truncates like GGML's cast; + 0.5 rounds the non-negative value to nearest.
                int q0 = Math.min(15, (int) ((src[o + j] - min) * id + 0.5f));
                int q1 = Math.min(15, (int) ((src[o + j + 16] - min) * id + 0.5f));
                dst.set(BYTE, blk + 4 + j, (byte) (q0 | q1 << 4));
            }
        }
    }

    @Override
    public int ggufFileType() {
        return 3; // LLAMA_FTYPE_MOSTLY_Q4_1
    }
}
