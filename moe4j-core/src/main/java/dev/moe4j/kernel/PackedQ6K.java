package dev.moe4j.kernel;

import dev.moe4j.tensor.DType;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

import static dev.moe4j.kernel.LittleEndian.SHORT;
import static dev.moe4j.kernel.Species.F;
import static dev.moe4j.kernel.Species.L;

/**
 * Q6_K weights repacked ({@link DType#Q6_K_R16}) so that a row·vector product runs on 16-bit integers against
 * the same 8-bit activations as {@link PackedQ4K} (one scale per 256 values). In the file layout each 6-bit
 * value is assembled from two places and widened to a float, which kept Q6_K decoding compute-bound.
 *
 * <p>Layout. Panels of {@value PackedQ4#PANEL} rows; per 256-column super-block a panel holds {@value #SB_BYTES}
 * bytes, exactly its 16 rows' bytes in the file:
 * <pre>
 *   [0, 32)       f16 d of rows 0..15
 *   [32, 288)     int8 scale of sub-block s (16 columns), row i at 32 + 16s + i
 *   [288, 3360)   sub-block s at 288 + 192s: three groups of 32 shorts; short m belongs to row m / 2 and holds
 *                 columns of parity m % 2: group 0 the low nibbles of columns 2k + m % 2 (nibble k, k &lt; 4),
 *                 group 1 those of columns 8 + 2k + m % 2, group 2 the high two bits of columns 2k + m % 2
 *                 (bits 2k, 2k + 1; k &lt; 8)
 * </pre>
 * Weight (row, column) = d·scale·(q − 32), q = low | high &lt;&lt; 4 (ggml's {@code dequantize_row_q6_K}).
 *
 * <p>Exactness. Each 16-bit lane sums 8 products (q − 32)·a per sub-block, |q − 32| ≤ 32, |a| ≤ 127: at most
 * 32 512. The sub-block sums times their scales are added in 32-bit integers (≤ 16 · 65 024 · 128).
 */
public final class PackedQ6K {
    static final int PANEL = PackedQ4.PANEL;
    /** Bytes per panel per 256-column super-block: 16 rows of 210. */
    static final int SB_BYTES = 3360;
    private static final int D = 0, SCALES = 32, QS = 288, SUB_BYTES = 192;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final VectorSpecies<Short> SV = F.withLanes(short.class);
    private static final VectorSpecies<Integer> IV = F.withLanes(int.class);
    public static final boolean VECTOR = PackedQ4K.VECTOR;

    private PackedQ6K() {}

    /** Whether a {@code rows × cols} Q6_K matrix can be packed: whole panels and whole super-blocks. */
    public static boolean packable(long rows, long cols) {
        return rows % PANEL == 0 && cols % 256 == 0 && cols > 0;
    }

    // ---- packing -------------------------------------------------------------------------------------

    private static final VarHandle SHORT_LE = MethodHandles.byteArrayViewVarHandle(short[].class, LE);
    private static final VarHandle LONG_LE = MethodHandles.byteArrayViewVarHandle(long[].class, LE);

    /** Packs panel {@code p} of a Q6_K matrix whose rows start at {@code src} into {@code dst} (same offsets). */
    public static void packPanel(MemorySegment src, MemorySegment dst, int cols, long p) {
        int nsb = cols / 256, rowBytes = 210 * nsb, bytes = PANEL * rowBytes;
        byte[][] stage = PackStage.read(src, p * bytes, bytes);
        byte[] in = stage[0], out = stage[1];
        for (int sb = 0; sb < nsb; sb++) {
            int o = SB_BYTES * sb;
            for (int i = 0; i < PANEL; i++) {
                int blk = i * rowBytes + 210 * sb;
                out[o + D + 2 * i] = in[blk + 208];
                out[o + D + 2 * i + 1] = in[blk + 209];
                for (int s = 0; s < 16; s++) {
                    out[o + SCALES + 16 * s + i] = in[blk + 192 + s];
                    // Value 16s + e of the super-block (half h = s / 8, quarter u = (s % 8) / 2, l = 16·(s % 2) + e):
                    // low nibble (u < 2: low, else high) of ql byte 64h + 32·(u % 2) + l, high bits 2u.. of qh byte
                    // 32h + l. Columns 2k + parity are every other byte of a 16-byte run, gathered 8 bytes at a time.
                    int h = s / 8, u = (s % 8) / 2, l = 16 * (s % 2);
                    int lo = blk + 64 * h + 32 * (u % 2) + l, hi = blk + 128 + 32 * h + l, nibble = u < 2 ? 0 : 4;
                    long lo0 = (long) LONG_LE.get(in, lo), lo1 = (long) LONG_LE.get(in, lo + 8);
                    long hi0 = (long) LONG_LE.get(in, hi), hi1 = (long) LONG_LE.get(in, hi + 8);
                    int at = o + QS + SUB_BYTES * s + 4 * i;
                    for (int par = 0; par < 2; par++) {
                        long nib = 0x000F000F000F000FL << (8 * par + nibble), two = 0x0003000300030003L << (8 * par + 2 * u);
                        SHORT_LE.set(out, at + 2 * par, (short) Long.compress(lo0, nib));
                        SHORT_LE.set(out, at + 64 + 2 * par, (short) Long.compress(lo1, nib));
                        SHORT_LE.set(out, at + 128 + 2 * par, (short) (Long.compress(hi0, two) | Long.compress(hi1, two) << 8));
                    }
                }
            }
        }
        PackStage.write(out, dst, p * bytes, bytes);
    }

    private static long superBlock(long off, int cols, int r, int c) {
        return off + (long) (r / PANEL) * SB_BYTES * (cols / 256) + (long) SB_BYTES * (c / 256);
    }

    /** The stored 6-bit value q of (row r, column c). */
    private static int q6(MemorySegment seg, long off, int cols, int r, int c) {
        int e = c % 16, k = e / 2, m = 2 * (r % PANEL) + e % 2;
        long sub = superBlock(off, cols, r, c) + QS + (long) SUB_BYTES * ((c % 256) / 16);
        int nib = (seg.get(SHORT, sub + 64L * (k / 4) + 2L * m) & 0xFFFF) >>> (4 * (k % 4)) & 0xF;
        int hi = (seg.get(SHORT, sub + 128 + 2L * m) & 0xFFFF) >>> (2 * k) & 3;
        return nib | hi << 4;
    }

    private static int scale(MemorySegment seg, long sb, int i, int s) {
        return seg.get(ValueLayout.JAVA_BYTE, sb + SCALES + 16L * s + i);
    }

    /** Weight (row r, column c) of a packed matrix starting at {@code off}: the reference for the kernels. */
    public static float get(MemorySegment seg, long off, int cols, int r, int c) {
        long sb = superBlock(off, cols, r, c);
        float d = Float.float16ToFloat(seg.get(SHORT, sb + D + 2L * (r % PANEL)));
        return d * scale(seg, sb, r % PANEL, (c % 256) / 16) * (q6(seg, off, cols, r, c) - 32);
    }

    /** Row {@code r} as floats (rare: embedding tables stay unpacked, so plain). */
    public static void row(MemorySegment seg, long off, int cols, int r, float[] dst, int dstOff) {
        for (int c = 0; c < cols; c++) dst[dstOff + c] = get(seg, off, cols, r, c);
    }

    // ---- one token (decode) ----------------------------------------------------------------------------

    /**
     * For rows [r0, r1) (r0 a multiple of 16) of the packed matrix at {@code off} and every token t of {@code a}:
     * {@code out[outOff + t*outStride + r] = row r · token t}.
     */
    public static void rows(MemorySegment seg, long off, int cols, int r0, int r1, PackedQ4K.Activations a,
                            float[] out, int outOff, int outStride) {
        if (r0 % PANEL != 0) throw new IllegalArgumentException("rows must start on a panel, got " + r0);
        if (a.cols != cols) throw new IllegalArgumentException("activations have " + a.cols + " columns, weights " + cols);
        int nsb = cols / 256;
        long panelBytes = (long) SB_BYTES * nsb;
        for (int p0 = r0; p0 < r1; p0 += PANEL) {
            long panel = off + panelBytes * (p0 / PANEL);
            int valid = Math.min(PANEL, r1 - p0);
            if (!VECTOR) {
                for (int t = 0; t < a.tokens; t++) for (int j = 0; j < valid; j++)
                    out[outOff + t * outStride + p0 + j] = reference(seg, off, cols, p0 + j, a, t);
                continue;
            }
            for (int h = 0; h < PANEL / L; h++) {
                int rowsHere = Math.min(L, valid - h * L);
                if (rowsHere <= 0) break;
                int o = outOff + p0 + h * L;
                for (int t = 0; t < a.tokens; t++)
                    panelRows(seg, panel, h, nsb, a.pairs, a.scale, t * nsb, out, o + t * outStride, rowsHere);
            }
        }
    }

    /**
     * L rows (group h of the panel) · the token whose super-blocks start at index {@code xb}; written out in one
     * method (see {@link PackedQ4K}). Per 16-column sub-block: 8 products per 16-bit lane, even and odd columns
     * of each row apart, then added per row, times the row's int8 scale, into 32-bit sums.
     */
    private static void panelRows(MemorySegment seg, long panel, int h, int nsb, int[] xp, float[] xs, int xb,
                                  float[] out, int o, int rows) {
        ShortVector low = ShortVector.broadcast(SV, (short) 0xF), high = ShortVector.broadcast(SV, (short) 0x30);
        ShortVector bias = ShortVector.broadcast(SV, (short) 32);
        FloatVector acc = FloatVector.zero(F);
        long rowsAt = (long) h * L, wAt = (long) h * 2 * SV.length();
        for (int sb = 0; sb < nsb; sb++) {
            long base = panel + (long) SB_BYTES * sb;
            IntVector dots = IntVector.zero(IV);
            for (int s = 0; s < 16; s++) {
                long w0 = base + QS + (long) SUB_BYTES * s + wAt;
                int xi = 128 * (xb + sb) + 8 * s;
                ShortVector hb = ShortVector.fromMemorySegment(SV, seg, w0 + 128, LE);
                ShortVector w = ShortVector.fromMemorySegment(SV, seg, w0, LE);
                ShortVector p = w.and(low).or(hb.lanewise(VectorOperators.LSHL, 4).and(high)).sub(bias)
                        .mul(IntVector.broadcast(IV, xp[xi]).reinterpretAsShorts());
                p = p.add(w.lanewise(VectorOperators.LSHR, 4).and(low).or(hb.lanewise(VectorOperators.LSHL, 2).and(high)).sub(bias)
                        .mul(IntVector.broadcast(IV, xp[xi + 1]).reinterpretAsShorts()));
                ShortVector p2 = w.lanewise(VectorOperators.LSHR, 8).and(low).or(hb.and(high)).sub(bias)
                        .mul(IntVector.broadcast(IV, xp[xi + 2]).reinterpretAsShorts());
                p2 = p2.add(w.lanewise(VectorOperators.LSHR, 12).or(hb.lanewise(VectorOperators.LSHR, 2).and(high)).sub(bias)
                        .mul(IntVector.broadcast(IV, xp[xi + 3]).reinterpretAsShorts()));
                w = ShortVector.fromMemorySegment(SV, seg, w0 + 64, LE);
                p = p.add(w.and(low).or(hb.lanewise(VectorOperators.LSHR, 4).and(high)).sub(bias)
                        .mul(IntVector.broadcast(IV, xp[xi + 4]).reinterpretAsShorts()));
                p = p.add(w.lanewise(VectorOperators.LSHR, 4).and(low).or(hb.lanewise(VectorOperators.LSHR, 6).and(high)).sub(bias)
                        .mul(IntVector.broadcast(IV, xp[xi + 5]).reinterpretAsShorts()));
                p2 = p2.add(w.lanewise(VectorOperators.LSHR, 8).and(low).or(hb.lanewise(VectorOperators.LSHR, 8).and(high)).sub(bias)
                        .mul(IntVector.broadcast(IV, xp[xi + 6]).reinterpretAsShorts()));
                p2 = p2.add(w.lanewise(VectorOperators.LSHR, 12).or(hb.lanewise(VectorOperators.LSHR, 10).and(high)).sub(bias)
                        .mul(IntVector.broadcast(IV, xp[xi + 7]).reinterpretAsShorts()));
                IntVector v = p.add(p2).reinterpretAsInts();
                IntVector dot = v.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(v.lanewise(VectorOperators.ASHR, 16));
                IntVector sc = (IntVector) ByteVector.fromMemorySegment(Species.B, seg, base + SCALES + 16L * s + rowsAt, LE)
                        .convertShape(VectorOperators.B2I, IV, 0);
                dots = dot.mul(sc).add(dots);
            }
            IntVector hd = (IntVector) ShortVector.fromMemorySegment(Species.S, seg, base + D + 2 * rowsAt, LE).convertShape(VectorOperators.S2I, IV, 0);
            FloatVector d = hd.lanewise(VectorOperators.LSHL, 13).and(0x8FFFE000).reinterpretAsFloats().mul(0x1p112f);
            acc = ((FloatVector) dots.convert(VectorOperators.I2F, 0)).mul(d).fma(FloatVector.broadcast(F, xs[xb + sb]), acc);
        }
        if (rows == L) acc.intoArray(out, o);
        else acc.intoArray(out, o, VectorMask.fromLong(F, (1L << rows) - 1));
    }

    /**
     * Row r · token t computed plainly on the quantised activations, with the kernel's integer sums and order of
     * float operations; what the vector kernel is tested against.
     */
    static float reference(MemorySegment seg, long off, int cols, int r, PackedQ4K.Activations a, int t) {
        int nsb = cols / 256, i = r % PANEL;
        float acc = 0;
        for (int sb = 0; sb < nsb; sb++) {
            long base = superBlock(off, cols, r, 256 * sb);
            int dots = 0;
            for (int s = 0; s < 16; s++) {
                int dot = 0;
                for (int e = 0; e < 16; e++) {
                    int c = 256 * sb + 16 * s + e;
                    dot += (q6(seg, off, cols, r, c) - 32) * a.q(t, c);
                }
                dots += scale(seg, base, i, s) * dot;
            }
            float d = Float.float16ToFloat(seg.get(SHORT, base + D + 2L * i));
            acc = Math.fma((float) dots * d, a.scale[t * nsb + sb], acc);
        }
        return acc;
    }

    // ---- several tokens (prefill): PanelGemm, on panels dequantised here ----------------------------------

    /** tile[tileOff + 16c + j] = weight (row j, column c) of the panel at {@code panel}. */
    static void dequantizePanel(MemorySegment seg, long panel, int cols, float[] tile, int tileOff) {
        if (!VECTOR) {
            for (int c = 0; c < cols; c++) for (int j = 0; j < PANEL; j++) tile[tileOff + PANEL * c + j] = get(seg, panel, cols, j, c);
            return;
        }
        IntVector low = IntVector.broadcast(IV, 0xF), two = IntVector.broadcast(IV, 3);
        for (int sb = 0, nsb = cols / 256; sb < nsb; sb++) {
            long base = panel + (long) SB_BYTES * sb;
            for (int h = 0; h < PANEL / L; h++) {
                IntVector hd = (IntVector) ShortVector.fromMemorySegment(Species.S, seg, base + D + 2L * h * L, LE).convertShape(VectorOperators.S2I, IV, 0);
                FloatVector d = hd.lanewise(VectorOperators.LSHL, 13).and(0x8FFFE000).reinterpretAsFloats().mul(0x1p112f);
                for (int s = 0; s < 16; s++) {
                    FloatVector step = d.mul((FloatVector) ByteVector.fromMemorySegment(Species.B, seg, base + SCALES + 16L * s + (long) h * L, LE)
                            .convertShape(VectorOperators.B2F, F, 0));
                    FloatVector offset = step.mul(-32f);
                    long sub = base + QS + (long) SUB_BYTES * s + 4L * h * L;
                    // Ints: low half the even column's short, high half the odd one's.
                    IntVector hb = IntVector.fromMemorySegment(IV, seg, sub + 128, LE);
                    int at = tileOff + PANEL * (256 * sb + 16 * s) + h * L;
                    for (int g = 0; g < 2; g++) {
                        IntVector v = IntVector.fromMemorySegment(IV, seg, sub + 64L * g, LE);
                        for (int k = 0; k < 4; k++) {
                            int col = 8 * g + 2 * k, hiShift = 2 * (4 * g + k);
                            IntVector even = v.lanewise(VectorOperators.LSHR, 4 * k).and(low)
                                    .or(hb.lanewise(VectorOperators.LSHR, hiShift).and(two).lanewise(VectorOperators.LSHL, 4));
                            IntVector odd = v.lanewise(VectorOperators.LSHR, 16 + 4 * k).and(low)
                                    .or(hb.lanewise(VectorOperators.LSHR, 16 + hiShift).and(two).lanewise(VectorOperators.LSHL, 4));
                            ((FloatVector) even.convert(VectorOperators.I2F, 0)).fma(step, offset).intoArray(tile, at + PANEL * col);
                            ((FloatVector) odd.convert(VectorOperators.I2F, 0)).fma(step, offset).intoArray(tile, at + PANEL * (col + 1));
                        }
                    }
                }
            }
        }
    }
}
