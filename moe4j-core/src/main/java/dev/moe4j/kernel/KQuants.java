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
import static dev.moe4j.kernel.ScalarKernels.INT;
import static dev.moe4j.kernel.ScalarKernels.LONG;
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

    // Q4_K's 12 scale bytes read as three little-endian words u0, u1, u2 (bytes 0..3, 4..7, 8..11): byte i of
    // each result below is scale or min i (or i+4) of the 8 sub-blocks, as ggml's kmask1..3 unpacking does.
    private static final int LOW6 = 0x3F3F3F3F, LOW4 = 0x0F0F0F0F, LOW2 = 0x03030303;

    /** Scales 4..7: low nibbles of bytes 8..11, high two bits from the top of bytes 0..3. */
    private static int q4kScales47(int u0, int u2) {
        return (u2 & LOW4) | ((u0 >>> 6) & LOW2) << 4;
    }

    /** Mins 4..7: high nibbles of bytes 8..11, high two bits from the top of bytes 4..7. */
    private static int q4kMins47(int u1, int u2) {
        return ((u2 >>> 4) & LOW4) | ((u1 >>> 6) & LOW2) << 4;
    }

    /** {@code (float) i} for 0..255, so a scale byte becomes a float with one load instead of a conversion. */
    private static final float[] U8 = new float[256];
    static {
        for (int i = 0; i < 256; i++) U8[i] = i;
    }

    private static boolean vectorised() {
        return B != null && L <= 16;
    }

    static void dequantizeQ4_K(MemorySegment seg, long off, float[] dst, int dstOff, int n) {
        if (!vectorised()) { ScalarKernels.dequantize(DType.Q4_K, seg, off, dst, dstOff, n); return; }
        for (int b = 0; b < n / 256; b++) {
            long blk = off + 144L * b;
            int dd = seg.get(INT, blk), u0 = seg.get(INT, blk + 4), u1 = seg.get(INT, blk + 8), u2 = seg.get(INT, blk + 12);
            float d = Float.float16ToFloat((short) dd), dmin = Float.float16ToFloat((short) (dd >>> 16));
            int sc03 = u0 & LOW6, sc47 = q4kScales47(u0, u2), m03 = u1 & LOW6, m47 = q4kMins47(u1, u2);
            for (int c = 0; c < 4; c++) {
                int sc = c < 2 ? sc03 : sc47, m = c < 2 ? m03 : m47, sh = 16 * (c & 1);
                FloatVector d1 = FloatVector.broadcast(F, d * U8[(sc >>> sh) & 0xFF]);
                FloatVector d2 = FloatVector.broadcast(F, d * U8[(sc >>> (sh + 8)) & 0xFF]);
                FloatVector m1 = FloatVector.broadcast(F, -dmin * U8[(m >>> sh) & 0xFF]);
                FloatVector m2 = FloatVector.broadcast(F, -dmin * U8[(m >>> (sh + 8)) & 0xFF]);
                int o = dstOff + 256 * b + 64 * c;
                long qs = blk + 16 + 32 * c;
                for (int l = 0; l < 32; l += L) {
                    ByteVector q = ByteVector.fromMemorySegment(B, seg, qs + l, LE);
                    lowNibbles(q).fma(d1, m1).intoArray(dst, o + l);
                    highNibbles(q).fma(d2, m2).intoArray(dst, o + 32 + l);
                }
            }
        }
    }

    /** Low nibbles of q as floats 0..15. */
    private static FloatVector lowNibbles(ByteVector q) {
        return (FloatVector) q.and((byte) 0xF).convertShape(VectorOperators.B2F, F, 0);
    }

    /** High nibbles of q as floats 0..15 (shifted as ints: x86 has no byte shift; the mask drops what crosses bytes). */
    private static FloatVector highNibbles(ByteVector q) {
        return (FloatVector) q.reinterpretAsInts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes()
                .and((byte) 0xF).convertShape(VectorOperators.B2F, F, 0);
    }

    /**
     * Needs byte species B with L lanes, L dividing 16. Sub-block j contributes
     * d*sc_j*sum(q*x) - dmin*m_j*sum(x): per sub-block the loop only multiply-adds the raw nibbles and sums x,
     * and the scales are applied once per sub-block, into per-super-block accumulators scaled by d and dmin.
     */
    static float dotQ4_K(MemorySegment seg, long off, float[] x, int xOff, int n) {
        if (!vectorised()) return ScalarKernels.dot(DType.Q4_K, seg, off, x, xOff, n);
        FloatVector acc = FloatVector.zero(F), accMin = FloatVector.zero(F);
        for (int b = 0; b < n / 256; b++) {
            long blk = off + 144L * b;
            int dd = seg.get(INT, blk), u0 = seg.get(INT, blk + 4), u1 = seg.get(INT, blk + 8), u2 = seg.get(INT, blk + 12);
            int sc03 = u0 & LOW6, sc47 = q4kScales47(u0, u2), m03 = u1 & LOW6, m47 = q4kMins47(u1, u2);
            // Even and odd sub-blocks (low and high nibbles) in separate accumulators: shorter dependency chains.
            FloatVector qa = FloatVector.zero(F), qb = FloatVector.zero(F), ma = FloatVector.zero(F), mb = FloatVector.zero(F);
            for (int c = 0; c < 4; c++) {
                int sc = c < 2 ? sc03 : sc47, m = c < 2 ? m03 : m47, sh = 16 * (c & 1);
                int xo = xOff + 256 * b + 64 * c;
                long qs = blk + 16 + 32 * c;
                FloatVector s1 = FloatVector.zero(F), s2 = FloatVector.zero(F), x1 = FloatVector.zero(F), x2 = FloatVector.zero(F);
                for (int l = 0; l < 32; l += L) {
                    ByteVector q = ByteVector.fromMemorySegment(B, seg, qs + l, LE);
                    FloatVector xa = FloatVector.fromArray(F, x, xo + l), xb = FloatVector.fromArray(F, x, xo + 32 + l);
                    s1 = lowNibbles(q).fma(xa, s1);
                    s2 = highNibbles(q).fma(xb, s2);
                    x1 = x1.add(xa);
                    x2 = x2.add(xb);
                }
                qa = s1.fma(FloatVector.broadcast(F, U8[(sc >>> sh) & 0xFF]), qa);
                qb = s2.fma(FloatVector.broadcast(F, U8[(sc >>> (sh + 8)) & 0xFF]), qb);
                ma = x1.fma(FloatVector.broadcast(F, U8[(m >>> sh) & 0xFF]), ma);
                mb = x2.fma(FloatVector.broadcast(F, U8[(m >>> (sh + 8)) & 0xFF]), mb);
            }
            float d = Float.float16ToFloat((short) dd), dmin = Float.float16ToFloat((short) (dd >>> 16));
            acc = qa.add(qb).fma(FloatVector.broadcast(F, d), acc);
            accMin = ma.add(mb).fma(FloatVector.broadcast(F, dmin), accMin);
        }
        return acc.sub(accMin).reduceLanes(VectorOperators.ADD);
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

    // A Q6_K half-block (128 values) is 64 bytes of low nibbles ql and 32 bytes of high bit pairs qh. Value
    // 32k + l (quarter k = 0..3, l = 0..31) has its low nibble in ql[32(k % 2) + l] (low for k < 2, high for
    // k >= 2) and its top two bits at bits 2k..2k+1 of qh[l]; scale 2k + l/16 of the half's 8 applies.
    // Both kernels walk one vector of one quarter of both halves per step (the body is small enough for C2
    // to inline all its vector operations) and shift on int lanes, masking per byte (x86 has no byte shift).

    static void dequantizeQ6_K(MemorySegment seg, long off, float[] dst, int dstOff, int n) {
        if (!vectorised()) { ScalarKernels.dequantize(DType.Q6_K, seg, off, dst, dstOff, n); return; }
        for (int b = 0; b < n / 256; b++) {
            long blk = off + 210L * b;
            float d = Float.float16ToFloat(seg.get(SHORT, blk + 208));
            long scA = seg.get(LONG, blk + 192), scB = seg.get(LONG, blk + 200);
            int o = dstOff + 256 * b;
            for (int p = 0; p < 128; p += L) {
                int k = p >>> 5, l = p & 31, sh = 8 * (2 * k + l / 16);
                long ql = blk + 32 * (k & 1) + l, qh = blk + 128 + l;
                q6(seg, ql, qh, k).mul(d * (byte) (scA >>> sh)).intoArray(dst, o + p);
                q6(seg, ql + 64, qh + 32, k).mul(d * (byte) (scB >>> sh)).intoArray(dst, o + 128 + p);
            }
        }
    }

    /** L 6-bit values of quarter k minus 32, as floats: low nibbles at {@code ql}, bit pairs at {@code qh}. */
    private static FloatVector q6(MemorySegment seg, long ql, long qh, int k) {
        ByteVector lo = ByteVector.fromMemorySegment(B, seg, ql, LE).reinterpretAsInts()
                .lanewise(VectorOperators.LSHR, 4 * (k >>> 1)).reinterpretAsBytes().and((byte) 0xF);
        ByteVector hi = ByteVector.fromMemorySegment(B, seg, qh, LE).reinterpretAsInts()
                .lanewise(VectorOperators.LSHR, 2 * k).lanewise(VectorOperators.LSHL, 4).reinterpretAsBytes().and((byte) 0x30);
        return (FloatVector) lo.or(hi).sub((byte) 32).convertShape(VectorOperators.B2F, F, 0);
    }

    /**
     * Needs byte species B with L lanes, L dividing 16 (a scale covers 16 values). The int8 scale is applied
     * per vector, d once per super-block.
     */
    static float dotQ6_K(MemorySegment seg, long off, float[] x, int xOff, int n) {
        if (!vectorised()) return ScalarKernels.dot(DType.Q6_K, seg, off, x, xOff, n);
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < n / 256; b++) {
            long blk = off + 210L * b;
            long scA = seg.get(LONG, blk + 192), scB = seg.get(LONG, blk + 200);
            int xo = xOff + 256 * b;
            FloatVector s0 = FloatVector.zero(F), s1 = FloatVector.zero(F);
            for (int p = 0; p < 128; p += L) {
                int k = p >>> 5, l = p & 31, sh = 8 * (2 * k + l / 16);
                long ql = blk + 32 * (k & 1) + l, qh = blk + 128 + l;
                s0 = q6(seg, ql, qh, k).mul(FloatVector.fromArray(F, x, xo + p))
                        .fma(FloatVector.broadcast(F, I8[(int) (scA >>> sh) & 0xFF]), s0);
                s1 = q6(seg, ql + 64, qh + 32, k).mul(FloatVector.fromArray(F, x, xo + 128 + p))
                        .fma(FloatVector.broadcast(F, I8[(int) (scB >>> sh) & 0xFF]), s1);
            }
            acc = s0.add(s1).fma(FloatVector.broadcast(F, Float.float16ToFloat(seg.get(SHORT, blk + 208))), acc);
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    /** {@code (float) (byte) i} for 0..255: a signed scale byte as a float with one load. */
    private static final float[] I8 = new float[256];
    static {
        for (int i = 0; i < 256; i++) I8[i] = (byte) i;
    }
}
