package dev.moe4j.kernel;

import dev.moe4j.tensor.DType;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static dev.moe4j.kernel.IqGrids.F8;
import static dev.moe4j.kernel.IqGrids.IQ1S;
import static dev.moe4j.kernel.LittleEndian.INT;
import static dev.moe4j.kernel.LittleEndian.SHORT;

/**
 * GGML's IQ1_S ({@code block_iq1_s} in ggml-common.h, 1.56 bits per weight): 50-byte blocks of 256 values: an
 * f16 d; 32 bytes qs, the low 8 bits of each group of 8's 11-bit index into {@link IqGrids#IQ1S} (values -1, 0,
 * 1); one 16-bit word h per sub-block of 32: bits 3l..3l+2 the high index bits of its group l, bits 12-14 a scale
 * s, bit 15 the sign of a shift δ = ±0.125. Value k: d·(2s + 1) · (grid[k] + δ) ({@code dequantize_row_iq1_s}).
 */
final class IQ1_SKernels extends TypeKernels {
    /** ggml's IQ1S_DELTA (and IQ1M_DELTA). */
    static final float DELTA = 0.125f;
    /** DELTA's float bits: OR-ing in a stored sign bit moved to bit 31 gives ±DELTA without a branch. */
    static final int DELTA_BITS = 0x3E000000;

    IQ1_SKernels() {
        super(DType.IQ1_S);
    }

    @Override
    public float get(MemorySegment seg, long byteOffset, long i) {
        long block = byteOffset + (i / 256) * 50;
        int j = (int) (i % 256), sub = j / 32, group = j / 8, k = j % 8;
        int h = seg.get(SHORT, block + 34 + 2 * sub) & 0xFFFF;
        int index = (seg.get(ValueLayout.JAVA_BYTE, block + 2 + group) & 0xFF) | (h >>> 3 * (group % 4) & 7) << 8;
        float d = Float.float16ToFloat(seg.get(SHORT, block));
        float dl = d * (2 * (h >>> 12 & 7) + 1);
        float delta = (h & 0x8000) != 0 ? -DELTA : DELTA;
        return dl * (IQ1S[8 * index + k] + delta);
    }

    @Override
    protected void dequantizeBlocks(MemorySegment seg, long off, float[] dst, int dstOff, int n) {
        if (!IqGrids.VECTORS_OF_8) { referenceDequantize(seg, off, dst, dstOff, n); return; }
        for (int b = 0; b < n / 256; b++) {
            long blk = off + 50L * b;
            float d = Float.float16ToFloat(seg.get(SHORT, blk));
            for (int sub = 0; sub < 8; sub++) {
                int qs = seg.get(INT, blk + 2 + 4 * sub), h = seg.get(SHORT, blk + 34 + 2 * sub) & 0xFFFF;
                FloatVector dl = FloatVector.broadcast(F8, d * (2 * (h >>> 12 & 7) + 1));
                FloatVector delta = FloatVector.broadcast(F8, Float.intBitsToFloat(DELTA_BITS | (h & 0x8000) << 16));
                int o = dstOff + 256 * b + 32 * sub;
                for (int l = 0; l < 4; l++) {
                    int index = (qs >>> 8 * l & 0xFF) | (h >>> 3 * l & 7) << 8;
                    FloatVector.fromArray(F8, IQ1S, 8 * index).add(delta).mul(dl).intoArray(dst, o + 8 * l);
                }
            }
        }
    }

    /** Per sub-block Σ (grid + δ)·x over its 4 groups, times the sub-block's scale once. */
    @Override
    protected float dotBlocks(MemorySegment seg, long off, float[] x, int xOff, int n) {
        if (!IqGrids.VECTORS_OF_8) return referenceDot(seg, off, x, xOff, n);
        FloatVector acc = FloatVector.zero(F8);
        for (int b = 0; b < n / 256; b++) {
            long blk = off + 50L * b;
            float d = Float.float16ToFloat(seg.get(SHORT, blk));
            for (int sub = 0; sub < 8; sub++) {
                int qs = seg.get(INT, blk + 2 + 4 * sub), h = seg.get(SHORT, blk + 34 + 2 * sub) & 0xFFFF;
                FloatVector delta = FloatVector.broadcast(F8, Float.intBitsToFloat(DELTA_BITS | (h & 0x8000) << 16));
                int xo = xOff + 256 * b + 32 * sub;
                FloatVector s = FloatVector.zero(F8);
                for (int l = 0; l < 4; l++) {
                    int index = (qs >>> 8 * l & 0xFF) | (h >>> 3 * l & 7) << 8;
                    s = FloatVector.fromArray(F8, IQ1S, 8 * index).add(delta).fma(FloatVector.fromArray(F8, x, xo + 8 * l), s);
                }
                acc = s.fma(FloatVector.broadcast(F8, d * (2 * (h >>> 12 & 7) + 1)), acc);
            }
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }
}
