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
            // Byte j of sc / m: scale / min of sub-block j.
            long sc = (u0 & LOW6) & 0xFFFFFFFFL | (long) q4kScales47(u0, u2) << 32;
            long m = (u1 & LOW6) & 0xFFFFFFFFL | (long) q4kMins47(u1, u2) << 32;
            for (int c = 0; c < 4; c++) {
                int sc2 = (int) (sc >>> 16 * c), m2 = (int) (m >>> 16 * c); // sub-blocks 2c, 2c+1
                FloatVector d1 = FloatVector.broadcast(F, d * U8[sc2 & 0xFF]), d2 = FloatVector.broadcast(F, d * U8[(sc2 >>> 8) & 0xFF]);
                FloatVector m1 = FloatVector.broadcast(F, -dmin * U8[m2 & 0xFF]), m2v = FloatVector.broadcast(F, -dmin * U8[(m2 >>> 8) & 0xFF]);
                int o = dstOff + 256 * b + 64 * c;
                long qs = blk + 16 + 32 * c;
                // First vector written out, the rest (one more when L = 16) looped over: see dotQ4_K.
                ByteVector q = ByteVector.fromMemorySegment(B, seg, qs, LE);
                ((FloatVector) q.and((byte) 0xF).convertShape(VectorOperators.B2F, F, 0)).fma(d1, m1).intoArray(dst, o);
                ((FloatVector) q.reinterpretAsInts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes().and((byte) 0xF)
                        .convertShape(VectorOperators.B2F, F, 0)).fma(d2, m2v).intoArray(dst, o + 32);
                for (int l = L; l < 32; l += L) {
                    q = ByteVector.fromMemorySegment(B, seg, qs + l, LE);
                    ((FloatVector) q.and((byte) 0xF).convertShape(VectorOperators.B2F, F, 0)).fma(d1, m1).intoArray(dst, o + l);
                    ((FloatVector) q.reinterpretAsInts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes().and((byte) 0xF)
                            .convertShape(VectorOperators.B2F, F, 0)).fma(d2, m2v).intoArray(dst, o + 32 + l);
                }
            }
        }
    }

    /**
     * Needs byte species B with L lanes, L dividing 16. Sub-block j contributes
     * d*sc_j*sum(q*x) - dmin*m_j*sum(x): the loop only multiply-adds the raw nibbles and sums x, and the scales
     * are applied once per sub-block.
     */
    static float dotQ4_K(MemorySegment seg, long off, float[] x, int xOff, int n) {
        if (!vectorised()) return ScalarKernels.dot(DType.Q4_K, seg, off, x, xOff, n);
        FloatVector acc = FloatVector.zero(F), accMin = FloatVector.zero(F);
        for (int b = 0; b < n / 256; b++) {
            long blk = off + 144L * b;
            int dd = seg.get(INT, blk), u0 = seg.get(INT, blk + 4), u1 = seg.get(INT, blk + 8), u2 = seg.get(INT, blk + 12);
            // Byte j of sc / m: scale / min of sub-block j.
            long sc = (u0 & LOW6) & 0xFFFFFFFFL | (long) q4kScales47(u0, u2) << 32;
            long m = (u1 & LOW6) & 0xFFFFFFFFL | (long) q4kMins47(u1, u2) << 32;
            FloatVector qa = FloatVector.zero(F), qb = FloatVector.zero(F), ma = FloatVector.zero(F), mb = FloatVector.zero(F);
            // Two 64-value chunks (sub-blocks 2c..2c+3) per step. Within a chunk the first vector is written out
            // and the rest (one more when L = 16) looped over: C2 then sees no 2-trip inner loop, whose
            // range-check set-up cost more than its arithmetic. Vector API calls only: helpers of our own
            // would hit C2's inlining node cutoff and box the vectors.
            for (int c = 0; c < 4; c += 2) {
                int sc4 = (int) (sc >>> 16 * c), m4 = (int) (m >>> 16 * c);
                int xo = xOff + 256 * b + 64 * c;
                long qs = blk + 16 + 32 * c;
                ByteVector q = ByteVector.fromMemorySegment(B, seg, qs, LE);
                FloatVector x1 = FloatVector.fromArray(F, x, xo), x2 = FloatVector.fromArray(F, x, xo + 32);
                FloatVector s1 = ((FloatVector) q.and((byte) 0xF).convertShape(VectorOperators.B2F, F, 0)).mul(x1);
                FloatVector s2 = ((FloatVector) q.reinterpretAsInts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes()
                        .and((byte) 0xF).convertShape(VectorOperators.B2F, F, 0)).mul(x2);
                q = ByteVector.fromMemorySegment(B, seg, qs + 32, LE);
                FloatVector x3 = FloatVector.fromArray(F, x, xo + 64), x4 = FloatVector.fromArray(F, x, xo + 96);
                FloatVector s3 = ((FloatVector) q.and((byte) 0xF).convertShape(VectorOperators.B2F, F, 0)).mul(x3);
                FloatVector s4 = ((FloatVector) q.reinterpretAsInts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes()
                        .and((byte) 0xF).convertShape(VectorOperators.B2F, F, 0)).mul(x4);
                for (int l = L; l < 32; l += L) {
                    q = ByteVector.fromMemorySegment(B, seg, qs + l, LE);
                    FloatVector xa = FloatVector.fromArray(F, x, xo + l), xb = FloatVector.fromArray(F, x, xo + 32 + l);
                    s1 = ((FloatVector) q.and((byte) 0xF).convertShape(VectorOperators.B2F, F, 0)).fma(xa, s1);
                    s2 = ((FloatVector) q.reinterpretAsInts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes()
                            .and((byte) 0xF).convertShape(VectorOperators.B2F, F, 0)).fma(xb, s2);
                    x1 = x1.add(xa);
                    x2 = x2.add(xb);
                    q = ByteVector.fromMemorySegment(B, seg, qs + 32 + l, LE);
                    xa = FloatVector.fromArray(F, x, xo + 64 + l);
                    xb = FloatVector.fromArray(F, x, xo + 96 + l);
                    s3 = ((FloatVector) q.and((byte) 0xF).convertShape(VectorOperators.B2F, F, 0)).fma(xa, s3);
                    s4 = ((FloatVector) q.reinterpretAsInts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes()
                            .and((byte) 0xF).convertShape(VectorOperators.B2F, F, 0)).fma(xb, s4);
                    x3 = x3.add(xa);
                    x4 = x4.add(xb);
                }
                qa = s3.fma(FloatVector.broadcast(F, U8[(sc4 >>> 16) & 0xFF]), s1.fma(FloatVector.broadcast(F, U8[sc4 & 0xFF]), qa));
                qb = s4.fma(FloatVector.broadcast(F, U8[sc4 >>> 24]), s2.fma(FloatVector.broadcast(F, U8[(sc4 >>> 8) & 0xFF]), qb));
                ma = x3.fma(FloatVector.broadcast(F, U8[(m4 >>> 16) & 0xFF]), x1.fma(FloatVector.broadcast(F, U8[m4 & 0xFF]), ma));
                mb = x4.fma(FloatVector.broadcast(F, U8[m4 >>> 24]), x2.fma(FloatVector.broadcast(F, U8[(m4 >>> 8) & 0xFF]), mb));
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
    // k >= 2) and its top two bits at bits 2k..2k+1 of qh[l]; scale 2k + l/16 of the half's 8 applies. So one
    // load of ql and one of qh give quarters k and k+2 (k = 0, 1). Both kernels take, per step, those two
    // quarters of both halves: one short loop whose body holds only Vector API calls, which C2 inlines
    // whatever the method's size (helpers of our own can hit its inlining node cutoff and box the vectors).
    // Shifts are done on int lanes (x86 has no byte shift) and masked per byte.

    static void dequantizeQ6_K(MemorySegment seg, long off, float[] dst, int dstOff, int n) {
        if (!vectorised()) { ScalarKernels.dequantize(DType.Q6_K, seg, off, dst, dstOff, n); return; }
        for (int b = 0; b < n / 256; b++) {
            long blk = off + 210L * b;
            float d = Float.float16ToFloat(seg.get(SHORT, blk + 208));
            long scA = seg.get(LONG, blk + 192), scB = seg.get(LONG, blk + 200);
            int o = dstOff + 256 * b;
            for (int p = 0; p < 64; p += 2 * L) {
                // p = 32k + l: scale byte 2k + l/16 = p/16 (and 4 more for quarter k+2); pair shift 2k.
                int hs = (p >>> 4) & 2, sh = (p >>> 1) & 0x38;
                long ql = blk + p, qh = blk + 128 + (p & 31);
                ByteVector va = ByteVector.fromMemorySegment(B, seg, ql, LE), ha = ByteVector.fromMemorySegment(B, seg, qh, LE)
                        .reinterpretAsInts().lanewise(VectorOperators.LSHR, hs).reinterpretAsBytes();
                ByteVector vb = ByteVector.fromMemorySegment(B, seg, ql + 64, LE), hb = ByteVector.fromMemorySegment(B, seg, qh + 32, LE)
                        .reinterpretAsInts().lanewise(VectorOperators.LSHR, hs).reinterpretAsBytes();
                ((FloatVector) va.and((byte) 0xF).or(ha.reinterpretAsInts().lanewise(VectorOperators.LSHL, 4).reinterpretAsBytes()
                        .and((byte) 0x30)).sub((byte) 32).convertShape(VectorOperators.B2F, F, 0))
                        .mul(d * (byte) (scA >>> sh)).intoArray(dst, o + p);
                ((FloatVector) va.reinterpretAsInts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes().and((byte) 0xF)
                        .or(ha.and((byte) 0x30)).sub((byte) 32).convertShape(VectorOperators.B2F, F, 0))
                        .mul(d * (byte) (scA >>> (sh + 32))).intoArray(dst, o + 64 + p);
                ((FloatVector) vb.and((byte) 0xF).or(hb.reinterpretAsInts().lanewise(VectorOperators.LSHL, 4).reinterpretAsBytes()
                        .and((byte) 0x30)).sub((byte) 32).convertShape(VectorOperators.B2F, F, 0))
                        .mul(d * (byte) (scB >>> sh)).intoArray(dst, o + 128 + p);
                ((FloatVector) vb.reinterpretAsInts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes().and((byte) 0xF)
                        .or(hb.and((byte) 0x30)).sub((byte) 32).convertShape(VectorOperators.B2F, F, 0))
                        .mul(d * (byte) (scB >>> (sh + 32))).intoArray(dst, o + 192 + p);
                int hs2 = ((p + L) >>> 4) & 2, sh2 = ((p + L) >>> 1) & 0x38;
                long ql2 = blk + p + L, qh2 = blk + 128 + ((p + L) & 31);
                ByteVector va2 = ByteVector.fromMemorySegment(B, seg, ql2, LE), ha2 = ByteVector.fromMemorySegment(B, seg, qh2, LE)
                        .reinterpretAsInts().lanewise(VectorOperators.LSHR, hs2).reinterpretAsBytes();
                ByteVector vb2 = ByteVector.fromMemorySegment(B, seg, ql2 + 64, LE), hb2 = ByteVector.fromMemorySegment(B, seg, qh2 + 32, LE)
                        .reinterpretAsInts().lanewise(VectorOperators.LSHR, hs2).reinterpretAsBytes();
                ((FloatVector) va2.and((byte) 0xF).or(ha2.reinterpretAsInts().lanewise(VectorOperators.LSHL, 4).reinterpretAsBytes()
                        .and((byte) 0x30)).sub((byte) 32).convertShape(VectorOperators.B2F, F, 0))
                        .mul(d * (byte) (scA >>> sh2)).intoArray(dst, o + p + L);
                ((FloatVector) va2.reinterpretAsInts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes().and((byte) 0xF)
                        .or(ha2.and((byte) 0x30)).sub((byte) 32).convertShape(VectorOperators.B2F, F, 0))
                        .mul(d * (byte) (scA >>> (sh2 + 32))).intoArray(dst, o + 64 + p + L);
                ((FloatVector) vb2.and((byte) 0xF).or(hb2.reinterpretAsInts().lanewise(VectorOperators.LSHL, 4).reinterpretAsBytes()
                        .and((byte) 0x30)).sub((byte) 32).convertShape(VectorOperators.B2F, F, 0))
                        .mul(d * (byte) (scB >>> sh2)).intoArray(dst, o + 128 + p + L);
                ((FloatVector) vb2.reinterpretAsInts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes().and((byte) 0xF)
                        .or(hb2.and((byte) 0x30)).sub((byte) 32).convertShape(VectorOperators.B2F, F, 0))
                        .mul(d * (byte) (scB >>> (sh2 + 32))).intoArray(dst, o + 192 + p + L);
            }
        }
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
            FloatVector s0 = FloatVector.zero(F), s1 = FloatVector.zero(F), s2 = FloatVector.zero(F), s3 = FloatVector.zero(F);
            FloatVector t0 = FloatVector.zero(F), t1 = FloatVector.zero(F), t2 = FloatVector.zero(F), t3 = FloatVector.zero(F);
            for (int p = 0; p < 64; p += 2 * L) {
                // p = 32k + l: scale byte 2k + l/16 = p/16 (and 4 more for quarter k+2); pair shift 2k.
                int hs = (p >>> 4) & 2, sh = (p >>> 1) & 0x38;
                long ql = blk + p, qh = blk + 128 + (p & 31);
                ByteVector va = ByteVector.fromMemorySegment(B, seg, ql, LE), ha = ByteVector.fromMemorySegment(B, seg, qh, LE)
                        .reinterpretAsInts().lanewise(VectorOperators.LSHR, hs).reinterpretAsBytes();
                ByteVector vb = ByteVector.fromMemorySegment(B, seg, ql + 64, LE), hb = ByteVector.fromMemorySegment(B, seg, qh + 32, LE)
                        .reinterpretAsInts().lanewise(VectorOperators.LSHR, hs).reinterpretAsBytes();
                s0 = ((FloatVector) va.and((byte) 0xF).or(ha.reinterpretAsInts().lanewise(VectorOperators.LSHL, 4).reinterpretAsBytes()
                        .and((byte) 0x30)).sub((byte) 32).convertShape(VectorOperators.B2F, F, 0))
                        .mul(FloatVector.fromArray(F, x, xo + p)).fma(FloatVector.broadcast(F, I8[(int) (scA >>> sh) & 0xFF]), s0);
                s1 = ((FloatVector) va.reinterpretAsInts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes().and((byte) 0xF)
                        .or(ha.and((byte) 0x30)).sub((byte) 32).convertShape(VectorOperators.B2F, F, 0))
                        .mul(FloatVector.fromArray(F, x, xo + 64 + p)).fma(FloatVector.broadcast(F, I8[(int) (scA >>> (sh + 32)) & 0xFF]), s1);
                s2 = ((FloatVector) vb.and((byte) 0xF).or(hb.reinterpretAsInts().lanewise(VectorOperators.LSHL, 4).reinterpretAsBytes()
                        .and((byte) 0x30)).sub((byte) 32).convertShape(VectorOperators.B2F, F, 0))
                        .mul(FloatVector.fromArray(F, x, xo + 128 + p)).fma(FloatVector.broadcast(F, I8[(int) (scB >>> sh) & 0xFF]), s2);
                s3 = ((FloatVector) vb.reinterpretAsInts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes().and((byte) 0xF)
                        .or(hb.and((byte) 0x30)).sub((byte) 32).convertShape(VectorOperators.B2F, F, 0))
                        .mul(FloatVector.fromArray(F, x, xo + 192 + p)).fma(FloatVector.broadcast(F, I8[(int) (scB >>> (sh + 32)) & 0xFF]), s3);
                int hs2 = ((p + L) >>> 4) & 2, sh2 = ((p + L) >>> 1) & 0x38;
                long ql2 = blk + p + L, qh2 = blk + 128 + ((p + L) & 31);
                ByteVector va2 = ByteVector.fromMemorySegment(B, seg, ql2, LE), ha2 = ByteVector.fromMemorySegment(B, seg, qh2, LE)
                        .reinterpretAsInts().lanewise(VectorOperators.LSHR, hs2).reinterpretAsBytes();
                ByteVector vb2 = ByteVector.fromMemorySegment(B, seg, ql2 + 64, LE), hb2 = ByteVector.fromMemorySegment(B, seg, qh2 + 32, LE)
                        .reinterpretAsInts().lanewise(VectorOperators.LSHR, hs2).reinterpretAsBytes();
                t0 = ((FloatVector) va2.and((byte) 0xF).or(ha2.reinterpretAsInts().lanewise(VectorOperators.LSHL, 4).reinterpretAsBytes()
                        .and((byte) 0x30)).sub((byte) 32).convertShape(VectorOperators.B2F, F, 0))
                        .mul(FloatVector.fromArray(F, x, xo + p + L)).fma(FloatVector.broadcast(F, I8[(int) (scA >>> sh2) & 0xFF]), t0);
                t1 = ((FloatVector) va2.reinterpretAsInts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes().and((byte) 0xF)
                        .or(ha2.and((byte) 0x30)).sub((byte) 32).convertShape(VectorOperators.B2F, F, 0))
                        .mul(FloatVector.fromArray(F, x, xo + 64 + p + L)).fma(FloatVector.broadcast(F, I8[(int) (scA >>> (sh2 + 32)) & 0xFF]), t1);
                t2 = ((FloatVector) vb2.and((byte) 0xF).or(hb2.reinterpretAsInts().lanewise(VectorOperators.LSHL, 4).reinterpretAsBytes()
                        .and((byte) 0x30)).sub((byte) 32).convertShape(VectorOperators.B2F, F, 0))
                        .mul(FloatVector.fromArray(F, x, xo + 128 + p + L)).fma(FloatVector.broadcast(F, I8[(int) (scB >>> sh2) & 0xFF]), t2);
                t3 = ((FloatVector) vb2.reinterpretAsInts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes().and((byte) 0xF)
                        .or(hb2.and((byte) 0x30)).sub((byte) 32).convertShape(VectorOperators.B2F, F, 0))
                        .mul(FloatVector.fromArray(F, x, xo + 192 + p + L)).fma(FloatVector.broadcast(F, I8[(int) (scB >>> (sh2 + 32)) & 0xFF]), t3);
            }
            acc = s0.add(t0).add(s1.add(t1)).add(s2.add(t2).add(s3.add(t3))).fma(FloatVector.broadcast(F, Float.float16ToFloat(seg.get(SHORT, blk + 208))), acc);
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    /** {@code (float) (byte) i} for 0..255: a signed scale byte as a float with one load. */
    private static final float[] I8 = new float[256];
    static {
        for (int i = 0; i < 256; i++) I8[i] = (byte) i;
    }
}
