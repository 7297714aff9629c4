package dev.moe4j.kernel;

import dev.moe4j.tensor.DType;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static dev.moe4j.kernel.IqGrids.F8;
import static dev.moe4j.kernel.IqGrids.HIGH_HALF;
import static dev.moe4j.kernel.IqGrids.I8;
import static dev.moe4j.kernel.IqGrids.IQ3S;
import static dev.moe4j.kernel.IqGrids.SIGN_BITS;
import static dev.moe4j.kernel.LittleEndian.INT;
import static dev.moe4j.kernel.LittleEndian.LONG;
import static dev.moe4j.kernel.LittleEndian.SHORT;

/**
 * GGML's IQ3_S ({@code block_iq3_s} in ggml-common.h, 3.44 bits per weight): 110-byte blocks of 256 values: an
 * f16 d; 64 bytes qs, the low 8 bits of 9-bit indices into {@link IqGrids#IQ3S} (4 values each, two per group of
 * 8); 8 bytes qh, one per sub-block of 32 whose bit h is the 9th bit of its h-th index; 32 sign bytes, one per
 * group (bit k negates value k); 4 scale bytes, one per two sub-blocks (low nibble first). Value k of a group
 * with scale nibble s: d·(1 + 2s) · grid[k] · sign_k ({@code dequantize_row_iq3_s} in ggml-quants.c).
 */
final class IQ3_SKernels extends TypeKernels {
    IQ3_SKernels() {
        super(DType.IQ3_S);
    }

    @Override
    public float get(MemorySegment seg, long byteOffset, long i) {
        long block = byteOffset + (i / 256) * 110;
        int j = (int) (i % 256), sub = j / 32, half = j / 4, k = j % 8;
        int qh = u8(seg, block + 66 + sub);
        int index = u8(seg, block + 2 + half) | (qh >>> half % 8 & 1) << 8;
        int signs = u8(seg, block + 74 + j / 8);
        int scale = u8(seg, block + 106 + sub / 2) >>> 4 * (sub % 2) & 0xF;
        float d = Float.float16ToFloat(seg.get(SHORT, block));
        float db = d * (1 + 2 * scale);
        return db * IQ3S[4 + 4 * index + k % 4] * IqGrids.sign(signs, k);
    }

    private static int u8(MemorySegment seg, long at) {
        return seg.get(ValueLayout.JAVA_BYTE, at) & 0xFF;
    }

    @Override
    protected void dequantizeBlocks(MemorySegment seg, long off, float[] dst, int dstOff, int n) {
        if (!IqGrids.VECTORS_OF_8) { referenceDequantize(seg, off, dst, dstOff, n); return; }
        for (int b = 0; b < n / 256; b++) {
            long blk = off + 110L * b;
            float d = Float.float16ToFloat(seg.get(SHORT, blk));
            long qhs = seg.get(LONG, blk + 66);
            int scales = seg.get(INT, blk + 106);
            for (int sub = 0; sub < 8; sub++) {
                long q = seg.get(LONG, blk + 2 + 8 * sub);
                int qh = (int) (qhs >>> 8 * sub), signs = seg.get(INT, blk + 74 + 4 * sub);
                FloatVector db = FloatVector.broadcast(F8, d * (1 + 2 * (scales >>> 4 * sub & 0xF)));
                int o = dstOff + 256 * b + 32 * sub;
                for (int l = 0; l < 4; l++) {
                    int q2 = (int) (q >>> 16 * l), h = qh >>> 2 * l;
                    // Entries of lanes 0-3 and 4-7, each 8 bits of q2 and a 9th from qh: see IqGrids.IQ3S's padding.
                    FloatVector g = FloatVector.fromArray(F8, IQ3S, 4 + 4 * ((q2 & 0xFF) | (h & 1) << 8))
                            .blend(FloatVector.fromArray(F8, IQ3S, 4 * ((q2 >>> 8 & 0xFF) | (h & 2) << 7)), HIGH_HALF);
                    g.reinterpretAsInts().lanewise(VectorOperators.XOR, IntVector.fromArray(I8, SIGN_BITS, 8 * (signs >>> 8 * l & 0xFF)))
                            .reinterpretAsFloats().mul(db).intoArray(dst, o + 8 * l);
                }
            }
        }
    }

    /** Per sub-block Σ (±grid)·x over its 4 groups, times the sub-block's scale once. */
    @Override
    protected float dotBlocks(MemorySegment seg, long off, float[] x, int xOff, int n) {
        if (!IqGrids.VECTORS_OF_8) return referenceDot(seg, off, x, xOff, n);
        FloatVector acc = FloatVector.zero(F8);
        for (int b = 0; b < n / 256; b++) {
            long blk = off + 110L * b;
            float d = Float.float16ToFloat(seg.get(SHORT, blk));
            long qhs = seg.get(LONG, blk + 66);
            int scales = seg.get(INT, blk + 106);
            for (int sub = 0; sub < 8; sub++) {
                long q = seg.get(LONG, blk + 2 + 8 * sub);
                int qh = (int) (qhs >>> 8 * sub), signs = seg.get(INT, blk + 74 + 4 * sub), xo = xOff + 256 * b + 32 * sub;
                FloatVector s = FloatVector.zero(F8);
                for (int l = 0; l < 4; l++) {
                    int q2 = (int) (q >>> 16 * l), h = qh >>> 2 * l;
                    FloatVector g = FloatVector.fromArray(F8, IQ3S, 4 + 4 * ((q2 & 0xFF) | (h & 1) << 8))
                            .blend(FloatVector.fromArray(F8, IQ3S, 4 * ((q2 >>> 8 & 0xFF) | (h & 2) << 7)), HIGH_HALF);
                    s = g.reinterpretAsInts().lanewise(VectorOperators.XOR, IntVector.fromArray(I8, SIGN_BITS, 8 * (signs >>> 8 * l & 0xFF)))
                            .reinterpretAsFloats().fma(FloatVector.fromArray(F8, x, xo + 8 * l), s);
                }
                acc = s.fma(FloatVector.broadcast(F8, d * (1 + 2 * (scales >>> 4 * sub & 0xF))), acc);
            }
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }
}
