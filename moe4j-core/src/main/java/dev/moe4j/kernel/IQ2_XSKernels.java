package dev.moe4j.kernel;

import dev.moe4j.tensor.DType;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static dev.moe4j.kernel.IqGrids.F8;
import static dev.moe4j.kernel.IqGrids.I8;
import static dev.moe4j.kernel.IqGrids.IQ2XS;
import static dev.moe4j.kernel.IqGrids.KSIGN_BITS;
import static dev.moe4j.kernel.LittleEndian.LONG;
import static dev.moe4j.kernel.LittleEndian.SHORT;

/**
 * GGML's IQ2_XS ({@code block_iq2_xs} in ggml-common.h, 2.31 bits per weight): 74-byte blocks of 256 values,
 * an f16 d, 32 little-endian 16-bit words (one per group of 8: a 9-bit index into {@link IqGrids#IQ2XS} and,
 * above it, a 7-bit sign index whose 8th sign is the parity) and 8 scale bytes, one per sub-block of 32 whose
 * low nibble scales its groups 0-1 and high nibble groups 2-3. Value k of a group with scale nibble s:
 * d·(0.5 + s)·0.25 · grid[k] · sign_k ({@code dequantize_row_iq2_xs} in ggml-quants.c).
 */
final class IQ2_XSKernels extends TypeKernels {
    IQ2_XSKernels() {
        super(DType.IQ2_XS);
    }

    @Override
    public float get(MemorySegment seg, long byteOffset, long i) {
        long block = byteOffset + (i / 256) * 74;
        int j = (int) (i % 256), group = j / 8, k = j % 8;
        int q = seg.get(SHORT, block + 2 + 2 * group) & 0xFFFF;
        int scale = (seg.get(ValueLayout.JAVA_BYTE, block + 66 + group / 4) & 0xFF) >>> 4 * (group % 4 / 2) & 0xF;
        float d = Float.float16ToFloat(seg.get(SHORT, block));
        float db = d * (0.5f + scale) * 0.25f;
        return db * IQ2XS[8 * (q & 511) + k] * IqGrids.sign(IqGrids.ksigns(q >>> 9), k);
    }

    @Override
    protected void dequantizeBlocks(MemorySegment seg, long off, float[] dst, int dstOff, int n) {
        if (!IqGrids.VECTORS_OF_8) { referenceDequantize(seg, off, dst, dstOff, n); return; }
        for (int b = 0; b < n / 256; b++) {
            long blk = off + 74L * b;
            float d = Float.float16ToFloat(seg.get(SHORT, blk));
            long scales = seg.get(LONG, blk + 66);
            for (int sub = 0; sub < 8; sub++) {
                long q = seg.get(LONG, blk + 2 + 8 * sub);
                int sc = (int) (scales >>> 8 * sub);
                FloatVector db0 = FloatVector.broadcast(F8, d * (0.5f + (sc & 0xF)) * 0.25f);
                FloatVector db1 = FloatVector.broadcast(F8, d * (0.5f + (sc >>> 4 & 0xF)) * 0.25f);
                int o = dstOff + 256 * b + 32 * sub;
                for (int l = 0; l < 4; l++) {
                    int word = (int) (q >>> 16 * l), signs = word >>> 9 & 127;
                    FloatVector g = FloatVector.fromArray(F8, IQ2XS, 8 * (word & 511));
                    IntVector sb = IntVector.fromArray(I8, KSIGN_BITS, 8 * signs);
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
            long blk = off + 74L * b;
            float d = Float.float16ToFloat(seg.get(SHORT, blk)) * 0.25f;
            long scales = seg.get(LONG, blk + 66);
            for (int sub = 0; sub < 8; sub++) {
                long q = seg.get(LONG, blk + 2 + 8 * sub);
                int sc = (int) (scales >>> 8 * sub), xo = xOff + 256 * b + 32 * sub;
                for (int h = 0; h < 2; h++) {
                    int w0 = (int) (q >>> 32 * h), w1 = w0 >>> 16;
                    int s0 = w0 >>> 9 & 127, s1 = w1 >>> 9 & 127;
                    FloatVector g0 = FloatVector.fromArray(F8, IQ2XS, 8 * (w0 & 511));
                    FloatVector g1 = FloatVector.fromArray(F8, IQ2XS, 8 * (w1 & 511));
                    IntVector sb0 = IntVector.fromArray(I8, KSIGN_BITS, 8 * s0);
                    IntVector sb1 = IntVector.fromArray(I8, KSIGN_BITS, 8 * s1);
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
