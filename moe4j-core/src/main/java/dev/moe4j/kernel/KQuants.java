package dev.moe4j.kernel;

import dev.moe4j.tensor.DType;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import static dev.moe4j.kernel.Dequant.B;
import static dev.moe4j.kernel.Dequant.F;
import static dev.moe4j.kernel.Dequant.L;
import static dev.moe4j.kernel.ScalarKernels.SHORT;

/**
 * GGML's K-quants, Q4_K and Q6_K (256-value super-blocks, layouts of {@code block_q4_K} and
 * {@code block_q6_K} in ggml-common.h): quantisers, row dequantisation and vectorised dot products.
 *
 * <p>The quantisers produce the reference layouts (llama.cpp reads them) but choose scales with a plain
 * min/max rule instead of ggml's iterative error search, so their error is a little higher than
 * llama-quantize's.
 */
final class KQuants {
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfByte BYTE = ValueLayout.JAVA_BYTE;

    private KQuants() {}

    private static int nearest(float v) {
        return Math.round(v);
    }

    // ---- Q4_K ----

    static void quantizeQ4_K(float[] src, int off, int n, MemorySegment dst, long dstOff) {
        Dequant.checkBlocks(DType.Q4_K, n);
        float[] scale = new float[8], min = new float[8];
        int[] ls = new int[8], lm = new int[8];
        for (int b = 0; b < n / 256; b++) {
            int o = off + 256 * b;
            float maxScale = 0, maxMin = 0;
            for (int j = 0; j < 8; j++) {
                float lo = 0, hi = 0; // the grid always contains zero: min <= 0 <= max
                for (int i = 0; i < 32; i++) {
                    lo = Math.min(lo, src[o + 32 * j + i]);
                    hi = Math.max(hi, src[o + 32 * j + i]);
                }
                scale[j] = (hi - lo) / 15;
                min[j] = -lo;
                maxScale = Math.max(maxScale, scale[j]);
                maxMin = Math.max(maxMin, min[j]);
            }
            float d = maxScale / 63, dmin = maxMin / 63;
            short dh = Float.floatToFloat16(d), dminh = Float.floatToFloat16(dmin);
            float dq = Float.float16ToFloat(dh), dminq = Float.float16ToFloat(dminh);
            for (int j = 0; j < 8; j++) {
                ls[j] = dq > 0 ? Math.min(63, nearest(scale[j] / dq)) : 0;
                lm[j] = dminq > 0 ? Math.min(63, nearest(min[j] / dminq)) : 0;
            }
            long blk = dstOff + 144L * b;
            dst.set(SHORT, blk, dh);
            dst.set(SHORT, blk + 2, dminh);
            byte[] s = new byte[12];
            for (int j = 0; j < 8; j++) {
                if (j < 4) {
                    s[j] = (byte) ls[j];
                    s[j + 4] = (byte) lm[j];
                } else {
                    s[j + 4] = (byte) ((ls[j] & 0xF) | (lm[j] & 0xF) << 4);
                    s[j - 4] |= (byte) ((ls[j] >> 4) << 6);
                    s[j] |= (byte) ((lm[j] >> 4) << 6);
                }
            }
            MemorySegment.copy(s, 0, dst, BYTE, blk + 4, 12);
            for (int c = 0; c < 4; c++) {
                float d1 = dq * ls[2 * c], m1 = dminq * lm[2 * c], d2 = dq * ls[2 * c + 1], m2 = dminq * lm[2 * c + 1];
                for (int l = 0; l < 32; l++) {
                    int q1 = q4(src[o + 64 * c + l], d1, m1), q2 = q4(src[o + 64 * c + 32 + l], d2, m2);
                    dst.set(BYTE, blk + 16 + 32 * c + l, (byte) (q1 | q2 << 4));
                }
            }
        }
    }

    private static int q4(float x, float d, float m) {
        return d == 0 ? 0 : Math.clamp(nearest((x + m) / d), 0, 15);
    }

    static void dequantizeQ4_K(MemorySegment seg, long off, float[] dst, int dstOff, int n) {
        for (int b = 0; b < n / 256; b++) {
            long blk = off + 144L * b;
            float d = Float.float16ToFloat(seg.get(SHORT, blk)), dmin = Float.float16ToFloat(seg.get(SHORT, blk + 2));
            for (int c = 0; c < 4; c++) {
                float d1 = d * ScalarKernels.q4kScale(seg, blk + 4, 2 * c), m1 = dmin * ScalarKernels.q4kMin(seg, blk + 4, 2 * c);
                float d2 = d * ScalarKernels.q4kScale(seg, blk + 4, 2 * c + 1), m2 = dmin * ScalarKernels.q4kMin(seg, blk + 4, 2 * c + 1);
                int o = dstOff + 256 * b + 64 * c;
                long q = blk + 16 + 32 * c;
                for (int l = 0; l < 32; l++) {
                    int v = seg.get(BYTE, q + l);
                    dst[o + l] = d1 * (v & 0xF) - m1;
                    dst[o + 32 + l] = d2 * ((v >> 4) & 0xF) - m2;
                }
            }
        }
    }

    /** Needs byte species B with L lanes, L dividing 16. */
    static float dotQ4_K(MemorySegment seg, long off, float[] x, int xOff, int n) {
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < n / 256; b++) {
            long blk = off + 144L * b;
            float d = Float.float16ToFloat(seg.get(SHORT, blk)), dmin = Float.float16ToFloat(seg.get(SHORT, blk + 2));
            for (int c = 0; c < 4; c++) {
                float d1 = d * ScalarKernels.q4kScale(seg, blk + 4, 2 * c), m1 = dmin * ScalarKernels.q4kMin(seg, blk + 4, 2 * c);
                float d2 = d * ScalarKernels.q4kScale(seg, blk + 4, 2 * c + 1), m2 = dmin * ScalarKernels.q4kMin(seg, blk + 4, 2 * c + 1);
                int xo = xOff + 256 * b + 64 * c;
                // sum((d*q - m) * x) = d * sum(q*x) - m * sum(x): two accumulators per sub-block, scaled once.
                FloatVector s1 = FloatVector.zero(F), s2 = FloatVector.zero(F), x1 = FloatVector.zero(F), x2 = FloatVector.zero(F);
                for (int l = 0; l < 32; l += L) {
                    ByteVector q = ByteVector.fromMemorySegment(B, seg, blk + 16 + 32 * c + l, LE);
                    FloatVector lo = (FloatVector) q.and((byte) 0xF).convertShape(VectorOperators.B2F, F, 0);
                    FloatVector hi = (FloatVector) q.lanewise(VectorOperators.LSHR, 4).convertShape(VectorOperators.B2F, F, 0);
                    FloatVector xa = FloatVector.fromArray(F, x, xo + l), xb = FloatVector.fromArray(F, x, xo + 32 + l);
                    s1 = lo.fma(xa, s1);
                    s2 = hi.fma(xb, s2);
                    x1 = x1.add(xa);
                    x2 = x2.add(xb);
                }
                acc = acc.add(s1.mul(d1)).add(s2.mul(d2)).sub(x1.mul(m1)).sub(x2.mul(m2));
            }
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    // ---- Q6_K ----

    static void quantizeQ6_K(float[] src, int off, int n, MemorySegment dst, long dstOff) {
        Dequant.checkBlocks(DType.Q6_K, n);
        float[] scale = new float[16];
        int[] q = new int[256];
        for (int b = 0; b < n / 256; b++) {
            int o = off + 256 * b;
            float maxScale = 0;
            for (int j = 0; j < 16; j++) {
                float amax = 0, max = 0;
                for (int i = 0; i < 16; i++) {
                    float v = src[o + 16 * j + i];
                    if (Math.abs(v) > amax) { amax = Math.abs(v); max = v; }
                }
                scale[j] = max / -32; // the largest magnitude maps to -32, the grid's extra negative step
                if (Math.abs(scale[j]) > Math.abs(maxScale)) maxScale = scale[j];
            }
            long blk = dstOff + 210L * b;
            float iscale = maxScale != 0 ? -128 / maxScale : 0;
            short dh = Float.floatToFloat16(maxScale != 0 ? 1 / iscale : 0);
            float dq = Float.float16ToFloat(dh);
            dst.set(SHORT, blk + 208, dh);
            for (int j = 0; j < 16; j++) {
                int sc = Math.min(127, nearest(iscale * scale[j]));
                dst.set(BYTE, blk + 192 + j, (byte) sc);
                float ds = dq * sc;
                for (int i = 0; i < 16; i++) {
                    q[16 * j + i] = ds == 0 ? 32 : Math.clamp(nearest(src[o + 16 * j + i] / ds), -32, 31) + 32;
                }
            }
            for (int h = 0; h < 2; h++) {
                for (int l = 0; l < 32; l++) {
                    int q1 = q[128 * h + l], q2 = q[128 * h + 32 + l], q3 = q[128 * h + 64 + l], q4 = q[128 * h + 96 + l];
                    dst.set(BYTE, blk + 64 * h + l, (byte) ((q1 & 0xF) | (q3 & 0xF) << 4));
                    dst.set(BYTE, blk + 64 * h + 32 + l, (byte) ((q2 & 0xF) | (q4 & 0xF) << 4));
                    dst.set(BYTE, blk + 128 + 32 * h + l, (byte) ((q1 >> 4) | (q2 >> 4) << 2 | (q3 >> 4) << 4 | (q4 >> 4) << 6));
                }
            }
        }
    }

    static void dequantizeQ6_K(MemorySegment seg, long off, float[] dst, int dstOff, int n) {
        for (int b = 0; b < n / 256; b++) {
            long blk = off + 210L * b;
            float d = Float.float16ToFloat(seg.get(SHORT, blk + 208));
            for (int h = 0; h < 2; h++) {
                long ql = blk + 64 * h, qh = blk + 128 + 32 * h, sc = blk + 192 + 8 * h;
                int o = dstOff + 256 * b + 128 * h;
                for (int l = 0; l < 32; l++) {
                    int a = seg.get(BYTE, ql + l) & 0xFF, c = seg.get(BYTE, ql + 32 + l) & 0xFF, hb = seg.get(BYTE, qh + l) & 0xFF;
                    int is = l / 16;
                    dst[o + l] = d * seg.get(BYTE, sc + is) * (((a & 0xF) | (hb & 3) << 4) - 32);
                    dst[o + 32 + l] = d * seg.get(BYTE, sc + is + 2) * (((c & 0xF) | ((hb >> 2) & 3) << 4) - 32);
                    dst[o + 64 + l] = d * seg.get(BYTE, sc + is + 4) * (((a >> 4) | ((hb >> 4) & 3) << 4) - 32);
                    dst[o + 96 + l] = d * seg.get(BYTE, sc + is + 6) * (((c >> 4) | ((hb >> 6) & 3) << 4) - 32);
                }
            }
        }
    }

    /** Needs byte species B with L lanes, L dividing 16 (a scale covers 16 values). */
    static float dotQ6_K(MemorySegment seg, long off, float[] x, int xOff, int n) {
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < n / 256; b++) {
            long blk = off + 210L * b;
            float d = Float.float16ToFloat(seg.get(SHORT, blk + 208));
            for (int h = 0; h < 2; h++) {
                long ql = blk + 64 * h, qh = blk + 128 + 32 * h, sc = blk + 192 + 8 * h;
                int xo = xOff + 256 * b + 128 * h;
                for (int l = 0; l < 32; l += L) {
                    int is = l / 16;
                    ByteVector a = ByteVector.fromMemorySegment(B, seg, ql + l, LE);
                    ByteVector c = ByteVector.fromMemorySegment(B, seg, ql + 32 + l, LE);
                    ByteVector hb = ByteVector.fromMemorySegment(B, seg, qh + l, LE);
                    ByteVector q1 = a.and((byte) 0xF).or(hb.and((byte) 3).lanewise(VectorOperators.LSHL, 4)).sub((byte) 32);
                    ByteVector q2 = c.and((byte) 0xF).or(hb.lanewise(VectorOperators.LSHR, 2).and((byte) 3).lanewise(VectorOperators.LSHL, 4)).sub((byte) 32);
                    ByteVector q3 = a.lanewise(VectorOperators.LSHR, 4).or(hb.lanewise(VectorOperators.LSHR, 4).and((byte) 3).lanewise(VectorOperators.LSHL, 4)).sub((byte) 32);
                    ByteVector q4 = c.lanewise(VectorOperators.LSHR, 4).or(hb.lanewise(VectorOperators.LSHR, 6).lanewise(VectorOperators.LSHL, 4)).sub((byte) 32);
                    acc = term(q1, x, xo + l, d * seg.get(BYTE, sc + is), acc);
                    acc = term(q2, x, xo + 32 + l, d * seg.get(BYTE, sc + is + 2), acc);
                    acc = term(q3, x, xo + 64 + l, d * seg.get(BYTE, sc + is + 4), acc);
                    acc = term(q4, x, xo + 96 + l, d * seg.get(BYTE, sc + is + 6), acc);
                }
            }
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    private static FloatVector term(ByteVector q, float[] x, int xo, float scale, FloatVector acc) {
        FloatVector qf = (FloatVector) q.convertShape(VectorOperators.B2F, F, 0);
        return qf.mul(FloatVector.fromArray(F, x, xo)).fma(FloatVector.broadcast(F, scale), acc);
    }
}
