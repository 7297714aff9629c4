package dev.moe4j.kernel;

import dev.moe4j.tensor.DType;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import static dev.moe4j.kernel.LittleEndian.INT;
import static dev.moe4j.kernel.LittleEndian.SHORT;
import static dev.moe4j.kernel.Species.B;
import static dev.moe4j.kernel.Species.F;
import static dev.moe4j.kernel.Species.L;

/**
 * GGML's Q4_K ({@code block_q4_K} in ggml-common.h): 256-value super-blocks of an f16 d, an f16 dmin, 12 bytes
 * of 6-bit scales and mins of 8 sub-blocks of 32, and 128 bytes of 4-bit q; x = d·scale·q − dmin·min.
 *
 * <p>The quantiser produces the reference layout (llama.cpp reads it) but chooses scales with a plain min/max
 * rule instead of ggml's iterative error search, so its error is a little higher than llama-quantize's.
 */
final class Q4_KKernels extends TypeKernels {
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfByte BYTE = ValueLayout.JAVA_BYTE;
    /** The vector kernels need byte species B with L lanes, L dividing 16. */
    private static final boolean VECTORISED = B != null && L <= 16;

    Q4_KKernels() {
        super(DType.Q4_K);
    }

    @Override
    public float get(MemorySegment seg, long byteOffset, long i) {
        long block = byteOffset + (i / 256) * 144;
        int j = (int) (i % 256), sub = j / 32, chunk = j / 64, l = j % 32;
        int b = seg.get(BYTE, block + 16 + 32 * chunk + l) & 0xFF;
        int q = sub % 2 == 0 ? b & 0xF : b >>> 4;
        float d = Float.float16ToFloat(seg.get(SHORT, block)), dmin = Float.float16ToFloat(seg.get(SHORT, block + 2));
        return d * subScale(seg, block + 4, sub) * q - dmin * subMin(seg, block + 4, sub);
    }

    /** 6-bit scale of sub-block j (0..7) from the 12 packed bytes at {@code s}. */
    private static int subScale(MemorySegment seg, long s, int j) {
        return j < 4 ? u8(seg, s + j) & 63 : (u8(seg, s + j + 4) & 0xF) | (u8(seg, s + j - 4) >>> 6) << 4;
    }

    /** 6-bit min of sub-block j. */
    private static int subMin(MemorySegment seg, long s, int j) {
        return j < 4 ? u8(seg, s + j + 4) & 63 : (u8(seg, s + j + 4) >>> 4) | (u8(seg, s + j) >>> 6) << 4;
    }

    private static int u8(MemorySegment seg, long off) {
        return seg.get(BYTE, off) & 0xFF;
    }

    @Override
    public boolean canEncode() {
        return true;
    }

    @Override
    public int ggufFileType() {
        return 14; // LLAMA_FTYPE_MOSTLY_Q4_K_S: every weight Q4_K, no Q6_K mix as in Q4_K_M
    }

    @Override
    protected void encodeBlocks(float[] src, int off, int n, MemorySegment dst, long dstOff) {
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
                ls[j] = dq > 0 ? Math.min(63, Math.round(scale[j] / dq)) : 0;
                lm[j] = dminq > 0 ? Math.min(63, Math.round(min[j] / dminq)) : 0;
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
        return d == 0 ? 0 : Math.clamp(Math.round((x + m) / d), 0, 15);
    }

    // Q4_K's 12 scale bytes read as three little-endian words u0, u1, u2 (bytes 0..3, 4..7, 8..11): byte i of
    // each result below is scale or min i (or i+4) of the 8 sub-blocks, as ggml's kmask1..3 unpacking does.
    private static final int LOW6 = 0x3F3F3F3F, LOW4 = 0x0F0F0F0F, LOW2 = 0x03030303;

    /** Scales 4..7: low nibbles of bytes 8..11, high two bits from the top of bytes 0..3. */
    private static int scales47(int u0, int u2) {
        return (u2 & LOW4) | ((u0 >>> 6) & LOW2) << 4;
    }

    /** Mins 4..7: high nibbles of bytes 8..11, high two bits from the top of bytes 4..7. */
    private static int mins47(int u1, int u2) {
        return ((u2 >>> 4) & LOW4) | ((u1 >>> 6) & LOW2) << 4;
    }

    /** {@code (float) i} for 0..255, so a scale byte becomes a float with one load instead of a conversion. */
    private static final float[] U8 = new float[256];
    static {
        for (int i = 0; i < 256; i++) U8[i] = i;
    }

    @Override
    protected void dequantizeBlocks(MemorySegment seg, long off, float[] dst, int dstOff, int n) {
        if (!VECTORISED) { referenceDequantize(seg, off, dst, dstOff, n); return; }
        for (int b = 0; b < n / 256; b++) {
            long blk = off + 144L * b;
            int dd = seg.get(INT, blk), u0 = seg.get(INT, blk + 4), u1 = seg.get(INT, blk + 8), u2 = seg.get(INT, blk + 12);
            float d = Float.float16ToFloat((short) dd), dmin = Float.float16ToFloat((short) (dd >>> 16));
            // Byte j of sc / m: scale / min of sub-block j.
            long sc = (u0 & LOW6) & 0xFFFFFFFFL | (long) scales47(u0, u2) << 32;
            long m = (u1 & LOW6) & 0xFFFFFFFFL | (long) mins47(u1, u2) << 32;
            for (int c = 0; c < 4; c++) {
                int sc2 = (int) (sc >>> 16 * c), m2 = (int) (m >>> 16 * c); // sub-blocks 2c, 2c+1
                FloatVector d1 = FloatVector.broadcast(F, d * U8[sc2 & 0xFF]), d2 = FloatVector.broadcast(F, d * U8[(sc2 >>> 8) & 0xFF]);
                FloatVector m1 = FloatVector.broadcast(F, -dmin * U8[m2 & 0xFF]), m2v = FloatVector.broadcast(F, -dmin * U8[(m2 >>> 8) & 0xFF]);
                int o = dstOff + 256 * b + 64 * c;
                long qs = blk + 16 + 32 * c;
                // First vector written out, the rest (one more when L = 16) looped over: see dotBlocks.
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
     * Sub-block j contributes d*sc_j*sum(q*x) - dmin*m_j*sum(x): the loop only multiply-adds the raw nibbles and
     * sums x, and the scales are applied once per sub-block.
     */
    @Override
    protected float dotBlocks(MemorySegment seg, long off, float[] x, int xOff, int n) {
        if (!VECTORISED) return referenceDot(seg, off, x, xOff, n);
        FloatVector acc = FloatVector.zero(F), accMin = FloatVector.zero(F);
        for (int b = 0; b < n / 256; b++) {
            long blk = off + 144L * b;
            int dd = seg.get(INT, blk), u0 = seg.get(INT, blk + 4), u1 = seg.get(INT, blk + 8), u2 = seg.get(INT, blk + 12);
            // Byte j of sc / m: scale / min of sub-block j.
            long sc = (u0 & LOW6) & 0xFFFFFFFFL | (long) scales47(u0, u2) << 32;
            long m = (u1 & LOW6) & 0xFFFFFFFFL | (long) mins47(u1, u2) << 32;
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
}
