package dev.moe4j.kernel;

import dev.moe4j.tensor.DType;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static dev.moe4j.kernel.IqGrids.F8;
import static dev.moe4j.kernel.IqGrids.I8;
import static dev.moe4j.kernel.IqGrids.IQ2S;
import static dev.moe4j.kernel.IqGrids.SIGN_BITS;
import static dev.moe4j.kernel.LittleEndian.INT;
import static dev.moe4j.kernel.LittleEndian.LONG;
import static dev.moe4j.kernel.LittleEndian.SHORT;

/**
 * GGML's IQ2_S ({@code block_iq2_s} in ggml-common.h, 2.56 bits per weight): 82-byte blocks of 256 values:
 * an f16 d; 32 bytes qs, the low 8 bits of each group of 8's 10-bit index into {@link IqGrids#IQ2S}; 32 sign
 * bytes, one per group (bit k negates value k); 8 bytes qh, one per sub-block of 32, bits 2l..2l+1 the high
 * index bits of its group l; 8 scale bytes, one per sub-block, low nibble for groups 0-1, high for 2-3.
 * Value k of a group with scale nibble s: d·(0.5 + s)·0.25 · grid[k] · sign_k ({@code dequantize_row_iq2_s}).
 */
final class IQ2_SKernels extends TypeKernels {
    IQ2_SKernels() {
        super(DType.IQ2_S);
    }

    @Override
    public float get(MemorySegment seg, long byteOffset, long i) {
        long block = byteOffset + (i / 256) * 82;
        int j = (int) (i % 256), group = j / 8, sub = j / 32, l = group % 4, k = j % 8;
        int qh = u8(seg, block + 66 + sub);
        int index = u8(seg, block + 2 + group) | (qh >>> 2 * l & 3) << 8;
        int signs = u8(seg, block + 34 + group);
        int scale = u8(seg, block + 74 + sub) >>> 4 * (l / 2) & 0xF;
        float d = Float.float16ToFloat(seg.get(SHORT, block));
        float db = d * (0.5f + scale) * 0.25f;
        return db * IQ2S[8 * index + k] * IqGrids.sign(signs, k);
    }

    private static int u8(MemorySegment seg, long at) {
        return seg.get(ValueLayout.JAVA_BYTE, at) & 0xFF;
    }

    @Override
    protected void dequantizeBlocks(MemorySegment seg, long off, float[] dst, int dstOff, int n) {
        if (!IqGrids.VECTORS_OF_8) { referenceDequantize(seg, off, dst, dstOff, n); return; }
        for (int b = 0; b < n / 256; b++) {
            long blk = off + 82L * b;
            float d = Float.float16ToFloat(seg.get(SHORT, blk));
            long qhs = seg.get(LONG, blk + 66), scales = seg.get(LONG, blk + 74);
            for (int sub = 0; sub < 8; sub++) {
                int qs = seg.get(INT, blk + 2 + 4 * sub), signs = seg.get(INT, blk + 34 + 4 * sub);
                int qh = (int) (qhs >>> 8 * sub), sc = (int) (scales >>> 8 * sub);
                FloatVector db0 = FloatVector.broadcast(F8, d * (0.5f + (sc & 0xF)) * 0.25f);
                FloatVector db1 = FloatVector.broadcast(F8, d * (0.5f + (sc >>> 4 & 0xF)) * 0.25f);
                int o = dstOff + 256 * b + 32 * sub;
                for (int l = 0; l < 4; l++) {
                    int index = (qs >>> 8 * l & 0xFF) | (qh >>> 2 * l & 3) << 8;
                    FloatVector g = FloatVector.fromArray(F8, IQ2S, 8 * index);
                    IntVector sb = IntVector.fromArray(I8, SIGN_BITS, 8 * (signs >>> 8 * l & 0xFF));
                    g.reinterpretAsInts().lanewise(VectorOperators.XOR, sb).reinterpretAsFloats()
                            .mul(l < 2 ? db0 : db1).intoArray(dst, o + 8 * l);
                }
            }
        }
    }

    /** Per half sub-block (16 values, one scale) Σ (±grid)·x, times the scale once. */
    @Override
    protected float dotBlocks(MemorySegment seg, long off, float[] x, int xOff, int n) {
        if (!IqGrids.VECTORS_OF_8) return referenceDot(seg, off, x, xOff, n);
        FloatVector acc = FloatVector.zero(F8);
        for (int b = 0; b < n / 256; b++) {
            long blk = off + 82L * b;
            float d = Float.float16ToFloat(seg.get(SHORT, blk)) * 0.25f;
            long qhs = seg.get(LONG, blk + 66), scales = seg.get(LONG, blk + 74);
            for (int sub = 0; sub < 8; sub++) {
                int qs = seg.get(INT, blk + 2 + 4 * sub), signs = seg.get(INT, blk + 34 + 4 * sub);
                int qh = (int) (qhs >>> 8 * sub), sc = (int) (scales >>> 8 * sub), xo = xOff + 256 * b + 32 * sub;
                for (int h = 0; h < 2; h++) {
                    int i0 = (qs >>> 16 * h & 0xFF) | (qh >>> 4 * h & 3) << 8;
                    int i1 = (qs >>> 16 * h + 8 & 0xFF) | (qh >>> 4 * h + 2 & 3) << 8;
                    FloatVector g0 = FloatVector.fromArray(F8, IQ2S, 8 * i0), g1 = FloatVector.fromArray(F8, IQ2S, 8 * i1);
                    IntVector sb0 = IntVector.fromArray(I8, SIGN_BITS, 8 * (signs >>> 16 * h & 0xFF));
                    IntVector sb1 = IntVector.fromArray(I8, SIGN_BITS, 8 * (signs >>> 16 * h + 8 & 0xFF));
                    FloatVector s = g0.reinterpretAsInts().lanewise(VectorOperators.XOR, sb0).reinterpretAsFloats()
                            .mul(FloatVector.fromArray(F8, x, xo + 16 * h));
                    s = g1.reinterpretAsInts().lanewise(VectorOperators.XOR, sb1).reinterpretAsFloats()
                            .fma(FloatVector.fromArray(F8, x, xo + 16 * h + 8), s);
                    acc = s.fma(FloatVector.broadcast(F8, d * (0.5f + (sc >>> 4 * h & 0xF))), acc);
                }
            }
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }
}
