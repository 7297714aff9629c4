package dev.moe4j.kernel;

import dev.moe4j.tensor.DType;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static dev.moe4j.kernel.IQ1_SKernels.DELTA;
import static dev.moe4j.kernel.IQ1_SKernels.DELTA_BITS;
import static dev.moe4j.kernel.IqGrids.F8;
import static dev.moe4j.kernel.IqGrids.IQ1S;
import static dev.moe4j.kernel.LittleEndian.INT;
import static dev.moe4j.kernel.LittleEndian.LONG;
import static dev.moe4j.kernel.LittleEndian.SHORT;

/**
 * GGML's IQ1_M ({@code block_iq1_m} in ggml-common.h, 1.75 bits per weight): 56-byte blocks of 256 values:
 * 32 bytes qs, the low 8 bits of each group of 8's 11-bit index into {@link IqGrids#IQ1S}; 16 bytes qh, one per
 * two groups, each nibble (low for the even group) 3 high index bits and the sign of a shift δ = ±0.125 (bit 3);
 * 8 scale bytes read as four 16-bit words w0..w3: bits 3m..3m+2 of word i are the 3-bit scale of half sub-block
 * 4i + m (16 values), and the top nibbles of w0..w3, lowest first, make the block's f16 d. Value k of a group:
 * d·(2s + 1) · (grid[k] + δ) ({@code dequantize_row_iq1_m} in ggml-quants.c).
 */
final class IQ1_MKernels extends TypeKernels {
    IQ1_MKernels() {
        super(DType.IQ1_M);
    }

    /** The block's d from the top nibbles of its four scale words (the scale bytes read as one long). */
    private static float d(long scales) {
        int bits = (int) (scales >>> 12 & 0xF) | (int) (scales >>> 24 & 0xF0) | (int) (scales >>> 36 & 0xF00) | (int) (scales >>> 48 & 0xF000);
        return Float.float16ToFloat((short) bits);
    }

    @Override
    public float get(MemorySegment seg, long byteOffset, long i) {
        long block = byteOffset + (i / 256) * 56;
        int j = (int) (i % 256), group = j / 8, k = j % 8;
        int qh = (seg.get(ValueLayout.JAVA_BYTE, block + 32 + group / 2) & 0xFF) >>> 4 * (group % 2) & 0xF;
        int index = (seg.get(ValueLayout.JAVA_BYTE, block + group) & 0xFF) | (qh & 7) << 8;
        int half = j / 16;   // the 16 values one 3-bit scale covers
        int scale = (seg.get(SHORT, block + 48 + 2 * (half / 4)) & 0xFFFF) >>> 3 * (half % 4) & 7;
        float dl = d(seg.get(LONG, block + 48)) * (2 * scale + 1);
        float delta = (qh & 8) != 0 ? -DELTA : DELTA;
        return dl * (IQ1S[8 * index + k] + delta);
    }

    @Override
    protected void dequantizeBlocks(MemorySegment seg, long off, float[] dst, int dstOff, int n) {
        if (!IqGrids.VECTORS_OF_8) { referenceDequantize(seg, off, dst, dstOff, n); return; }
        for (int b = 0; b < n / 256; b++) {
            long blk = off + 56L * b, scales = seg.get(LONG, blk + 48);
            int dBits = (int) (scales >>> 12 & 0xF) | (int) (scales >>> 24 & 0xF0) | (int) (scales >>> 36 & 0xF00) | (int) (scales >>> 48 & 0xF000);
            float d = Float.float16ToFloat((short) dBits);
            for (int sub = 0; sub < 8; sub++) {
                int qs = seg.get(INT, blk + 4 * sub), qh = seg.get(SHORT, blk + 32 + 2 * sub);
                int sc = (int) (scales >>> 16 * (sub / 2) + 6 * (sub % 2));   // bits 0-2 and 3-5: the two halves' scales
                int o = dstOff + 256 * b + 32 * sub;
                for (int l = 0; l < 4; l++) {
                    int nib = qh >>> 4 * l & 0xF, index = (qs >>> 8 * l & 0xFF) | (nib & 7) << 8;
                    float dl = d * (2 * (sc >>> 3 * (l / 2) & 7) + 1);
                    FloatVector.fromArray(F8, IQ1S, 8 * index).add(Float.intBitsToFloat(DELTA_BITS | (nib & 8) << 28))
                            .mul(dl).intoArray(dst, o + 8 * l);
                }
            }
        }
    }

    /** Per half sub-block (16 values, one scale) Σ (grid + δ)·x, times the scale once. */
    @Override
    protected float dotBlocks(MemorySegment seg, long off, float[] x, int xOff, int n) {
        if (!IqGrids.VECTORS_OF_8) return referenceDot(seg, off, x, xOff, n);
        FloatVector acc = FloatVector.zero(F8);
        for (int b = 0; b < n / 256; b++) {
            long blk = off + 56L * b, scales = seg.get(LONG, blk + 48);
            int dBits = (int) (scales >>> 12 & 0xF) | (int) (scales >>> 24 & 0xF0) | (int) (scales >>> 36 & 0xF00) | (int) (scales >>> 48 & 0xF000);
            float d = Float.float16ToFloat((short) dBits);
            for (int sub = 0; sub < 8; sub++) {
                int qs = seg.get(INT, blk + 4 * sub), qh = seg.get(SHORT, blk + 32 + 2 * sub);
                int sc = (int) (scales >>> 16 * (sub / 2) + 6 * (sub % 2)), xo = xOff + 256 * b + 32 * sub;
                for (int h = 0; h < 2; h++) {
                    int n0 = qh >>> 8 * h & 0xF, n1 = qh >>> 8 * h + 4 & 0xF;
                    int i0 = (qs >>> 16 * h & 0xFF) | (n0 & 7) << 8, i1 = (qs >>> 16 * h + 8 & 0xFF) | (n1 & 7) << 8;
                    FloatVector s = FloatVector.fromArray(F8, IQ1S, 8 * i0).add(Float.intBitsToFloat(DELTA_BITS | (n0 & 8) << 28))
                            .mul(FloatVector.fromArray(F8, x, xo + 16 * h));
                    s = FloatVector.fromArray(F8, IQ1S, 8 * i1).add(Float.intBitsToFloat(DELTA_BITS | (n1 & 8) << 28))
                            .fma(FloatVector.fromArray(F8, x, xo + 16 * h + 8), s);
                    acc = s.fma(FloatVector.broadcast(F8, d * (2 * (sc >>> 3 * h & 7) + 1)), acc);
                }
            }
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }
}
