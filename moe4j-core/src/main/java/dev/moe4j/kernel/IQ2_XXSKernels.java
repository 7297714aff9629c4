package dev.moe4j.kernel;

import dev.moe4j.tensor.DType;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static dev.moe4j.kernel.IqGrids.F8;
import static dev.moe4j.kernel.IqGrids.I8;
import static dev.moe4j.kernel.IqGrids.IQ2XXS;
import static dev.moe4j.kernel.IqGrids.KSIGN_BITS;
import static dev.moe4j.kernel.LittleEndian.INT;
import static dev.moe4j.kernel.LittleEndian.LONG;
import static dev.moe4j.kernel.LittleEndian.SHORT;

/**
 * GGML's IQ2_XXS ({@code block_iq2_xxs} in ggml-common.h, 2.06 bits per weight): 66-byte blocks of 256 values,
 * an f16 d then 8 sub-blocks of 32 values in 8 bytes each: 4 bytes of grid indices (one per group of 8, into
 * {@link IqGrids#IQ2XXS}) and a 32-bit word w holding the groups' 7-bit sign indices (bits 7l..7l+6 for group l,
 * 8th sign the parity) and a 4-bit scale s = w >>> 28. Value k of group l: d·(0.5 + s)·0.25 · grid[k] · sign_k
 * ({@code dequantize_row_iq2_xxs} in ggml-quants.c).
 */
final class IQ2_XXSKernels extends TypeKernels {
    IQ2_XXSKernels() {
        super(DType.IQ2_XXS);
    }

    @Override
    public float get(MemorySegment seg, long byteOffset, long i) {
        long block = byteOffset + (i / 256) * 66;
        int j = (int) (i % 256), sub = j / 32, group = j % 32 / 8, k = j % 8;
        long q = block + 2 + 8 * sub;
        int index = seg.get(ValueLayout.JAVA_BYTE, q + group) & 0xFF, w = seg.get(INT, q + 4);
        float d = Float.float16ToFloat(seg.get(SHORT, block));
        float db = d * (0.5f + (w >>> 28)) * 0.25f;
        return db * IQ2XXS[8 * index + k] * IqGrids.sign(IqGrids.ksigns(w >>> 7 * group & 127), k);
    }

    @Override
    protected void dequantizeBlocks(MemorySegment seg, long off, float[] dst, int dstOff, int n) {
        if (!IqGrids.VECTORS_OF_8) { referenceDequantize(seg, off, dst, dstOff, n); return; }
        for (int b = 0; b < n / 256; b++) {
            long blk = off + 66L * b;
            float d = Float.float16ToFloat(seg.get(SHORT, blk));
            for (int sub = 0; sub < 8; sub++) {
                long q = seg.get(LONG, blk + 2 + 8 * sub);
                int w = (int) (q >>> 32);
                FloatVector db = FloatVector.broadcast(F8, d * (0.5f + (w >>> 28)) * 0.25f);
                int o = dstOff + 256 * b + 32 * sub;
                for (int l = 0; l < 4; l++) {
                    int signs = w >>> 7 * l & 127;
                    FloatVector g = FloatVector.fromArray(F8, IQ2XXS, 8 * ((int) (q >>> 8 * l) & 0xFF));
                    IntVector sb = IntVector.fromArray(I8, KSIGN_BITS, 8 * signs);
                    g.reinterpretAsInts().lanewise(VectorOperators.XOR, sb).reinterpretAsFloats().mul(db).intoArray(dst, o + 8 * l);
                }
            }
        }
    }

    /**
     * Per sub-block Σ (±grid)·x over its 4 groups, times the sub-block's scale once. The groups are written out
     * in two chains of two (the loop over them, as in dequantizeBlocks, took ~20 % more CPU time).
     */
    @Override
    protected float dotBlocks(MemorySegment seg, long off, float[] x, int xOff, int n) {
        if (!IqGrids.VECTORS_OF_8) return referenceDot(seg, off, x, xOff, n);
        FloatVector acc = FloatVector.zero(F8);
        for (int b = 0; b < n / 256; b++) {
            long blk = off + 66L * b;
            float d = Float.float16ToFloat(seg.get(SHORT, blk));
            for (int sub = 0; sub < 8; sub++) {
                long q = seg.get(LONG, blk + 2 + 8 * sub);
                int w = (int) (q >>> 32);
                int xo = xOff + 256 * b + 32 * sub;
                int a = (int) q;
                FloatVector s = FloatVector.fromArray(F8, IQ2XXS, 8 * (a & 0xFF)).reinterpretAsInts()
                        .lanewise(VectorOperators.XOR, IntVector.fromArray(I8, KSIGN_BITS, 8 * (w & 127))).reinterpretAsFloats()
                        .mul(FloatVector.fromArray(F8, x, xo));
                FloatVector t = FloatVector.fromArray(F8, IQ2XXS, 8 * (a >>> 8 & 0xFF)).reinterpretAsInts()
                        .lanewise(VectorOperators.XOR, IntVector.fromArray(I8, KSIGN_BITS, 8 * (w >>> 7 & 127))).reinterpretAsFloats()
                        .mul(FloatVector.fromArray(F8, x, xo + 8));
                s = FloatVector.fromArray(F8, IQ2XXS, 8 * (a >>> 16 & 0xFF)).reinterpretAsInts()
                        .lanewise(VectorOperators.XOR, IntVector.fromArray(I8, KSIGN_BITS, 8 * (w >>> 14 & 127))).reinterpretAsFloats()
                        .fma(FloatVector.fromArray(F8, x, xo + 16), s);
                t = FloatVector.fromArray(F8, IQ2XXS, 8 * (a >>> 24)).reinterpretAsInts()
                        .lanewise(VectorOperators.XOR, IntVector.fromArray(I8, KSIGN_BITS, 8 * (w >>> 21 & 127))).reinterpretAsFloats()
                        .fma(FloatVector.fromArray(F8, x, xo + 24), t);
                s = s.add(t);
                acc = s.fma(FloatVector.broadcast(F8, d * (0.5f + (w >>> 28)) * 0.25f), acc);
            }
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }
}
