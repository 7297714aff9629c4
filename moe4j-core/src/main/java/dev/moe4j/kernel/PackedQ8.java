package dev.moe4j.kernel;

import dev.moe4j.tensor.DType;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import static dev.moe4j.kernel.LittleEndian.SHORT;
import static dev.moe4j.kernel.PackedQ4.PANEL;
import static dev.moe4j.kernel.Species.F;
import static dev.moe4j.kernel.Species.L;

/**
 * Q8_0 weights repacked ({@link DType#Q8_0_R16}) so that decoding widens bytes to floats without shuffles.
 * In the file layout each 16 weights cost a sign-extending byte shuffle, a conversion and a multiply-add,
 * and the shuffles kept one core at ~15 GB/s, under its share of the memory bandwidth; here one in-lane mask
 * or shift per 16 weights takes their place (one core: 20 GB/s streaming, 23 from cache; two: 40).
 *
 * <p>Layout. Rows are grouped in panels of {@value PackedQ4#PANEL}; a panel takes exactly the bytes of its 16
 * Q8_0 rows. Per 32-column block a panel holds 16 f16 scales (row j at short j), then 8 groups of 16 ints:
 * int j of group g holds row j's weights of columns 4g..4g+3, byte k column 4g+k, each stored as q + 128
 * (0..255). Masking byte k in place ({@code & 0xFF << 8k}) gives (q + 128) · 2^8k exactly as an int and a float,
 * so activations are pre-scaled by 2^-8k ({@link Activations}) and the +128 is taken off once per block as
 * 128 · Σ activations.
 */
public final class PackedQ8 {
    /** Bytes per panel per 32-column block: 16 scales and 512 weights, the same as 16 Q8_0 blocks. */
    static final int BLOCK_BYTES = 544;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final VectorSpecies<Integer> IV = F.withLanes(int.class);
    /** Activation scale by column within a group of 4: byte 0 and byte 3 (shifted down) are unscaled. */
    private static final float[] PRESCALE = prescale();

    private PackedQ8() {}

    private static float[] prescale() {
        float[] p = new float[32];
        for (int i = 0; i < 32; i++) p[i] = i % 4 == 1 ? 0x1p-8f : i % 4 == 2 ? 0x1p-16f : 1f;
        return p;
    }

    /** Whether a {@code rows × cols} Q8_0 matrix can be packed: whole panels and whole blocks. */
    public static boolean packable(long rows, long cols) {
        return PackedQ4.packable(rows, cols);
    }

    // ---- packing -------------------------------------------------------------------------------------

    /**
     * Packs panel {@code p} of a Q8_0 matrix whose rows start at {@code src} (rows {@code 34 · cols / 32} bytes
     * apart) into {@code dst} at the same relative offset.
     */
    public static void packPanel(MemorySegment src, MemorySegment dst, int cols, long p) {
        int nb = cols / 32, rowBytes = 34 * nb, bytes = PANEL * rowBytes;
        long panel = p * bytes;
        byte[][] stage = PackStage.read(src, panel, bytes);   // through heap arrays: see PackStage
        byte[] in = stage[0], out = stage[1];
        for (int b = 0; b < nb; b++) {
            int o = BLOCK_BYTES * b;
            for (int j = 0; j < PANEL; j++) {
                int blk = j * rowBytes + 34 * b;
                out[o + 2 * j] = in[blk];
                out[o + 2 * j + 1] = in[blk + 1];
                for (int g = 0; g < 8; g++)
                    for (int k = 0; k < 4; k++) out[o + 32 + 64 * g + 4 * j + k] = (byte) (in[blk + 2 + 4 * g + k] ^ 0x80);
            }
        }
        PackStage.write(out, dst, panel, bytes);
    }

    /** Weight (row r, column c) of a packed matrix starting at {@code off}: the reference for the kernels. */
    public static float get(MemorySegment seg, long off, int cols, int r, int c) {
        return scale(seg, off, cols, r, c) * quant(seg, off, cols, r, c);
    }

    private static long block(long off, int cols, int r, int c) {
        return off + (long) (r / PANEL) * PANEL * 34L * (cols / 32) + (long) BLOCK_BYTES * (c / 32);
    }

    static float scale(MemorySegment seg, long off, int cols, int r, int c) {
        return Float.float16ToFloat(seg.get(SHORT, block(off, cols, r, c) + 2L * (r % PANEL)));
    }

    /** The signed 8-bit weight q (the file's value). */
    private static int quant(MemorySegment seg, long off, int cols, int r, int c) {
        int e = c % 32;
        long at = block(off, cols, r, c) + 32 + 64L * (e / 4) + 4L * (r % PANEL) + e % 4;
        return (seg.get(ValueLayout.JAVA_BYTE, at) & 0xFF) - 128;
    }

    /** Row {@code r} as floats (embedding lookup; rare, so plain). */
    public static void row(MemorySegment seg, long off, int cols, int r, float[] dst, int dstOff) {
        for (int c = 0; c < cols; c++) dst[dstOff + c] = get(seg, off, cols, r, c);
    }

    // ---- activations ---------------------------------------------------------------------------------

    /**
     * Activations as the decode kernel reads them: column c scaled by 2^-8k for its byte position k, and per
     * 32-column block 128 · Σ x (the stored +128's share). Exact apart from that sum; reused between calls.
     */
    public static final class Activations {
        float[] scaled = new float[0];
        float[] offset = new float[0];
        int cols, tokens;

        /** Prepares {@code n} rows of {@code cols} values starting at {@code x[xOff]}. */
        public Activations prepare(float[] x, int xOff, int n, int cols) {
            int blocks = n * (cols / 32);
            if (offset.length < blocks) {
                scaled = new float[32 * blocks];
                offset = new float[blocks];
            }
            this.cols = cols;
            this.tokens = n;
            for (int blk = 0; blk < blocks; blk++) {
                int src = xOff + 32 * blk, dst = 32 * blk;   // tokens are contiguous rows of cols values
                float sum = 0;
                if (PackedQ4.VECTOR) {
                    FloatVector s = FloatVector.zero(F);
                    for (int i = 0; i < 32; i += L) {
                        FloatVector v = FloatVector.fromArray(F, x, src + i);
                        s = s.add(v);
                        v.mul(FloatVector.fromArray(F, PRESCALE, i)).intoArray(scaled, dst + i);
                    }
                    sum = s.reduceLanes(VectorOperators.ADD);
                } else {
                    for (int i = 0; i < 32; i++) {
                        sum += x[src + i];
                        scaled[dst + i] = x[src + i] * PRESCALE[i];
                    }
                }
                offset[blk] = 128 * sum;
            }
            return this;
        }
    }

    // ---- one token (decode) --------------------------------------------------------------------------

    /**
     * For rows [r0, r1) (r0 a multiple of 16) of the packed matrix at {@code off} and every token t of {@code a}:
     * {@code out[outOff + t*outStride + r] = row r · token t}.
     */
    public static void rows(MemorySegment seg, long off, int cols, int r0, int r1, Activations a,
                            float[] out, int outOff, int outStride) {
        if (r0 % PANEL != 0) throw new IllegalArgumentException("rows must start on a panel, got " + r0);
        long panelBytes = (long) PANEL * 34 * (cols / 32);
        for (int p0 = r0; p0 < r1; p0 += PANEL) {
            long panel = off + panelBytes * (p0 / PANEL);
            int valid = Math.min(PANEL, r1 - p0);
            if (!PackedQ4.VECTOR) {
                for (int t = 0; t < a.tokens; t++) for (int j = 0; j < valid; j++)
                    out[outOff + t * outStride + p0 + j] = reference(seg, off, cols, p0 + j, a, t);
                continue;
            }
            for (int h = 0; h < PANEL / L; h++) {
                int rowsHere = Math.min(L, valid - h * L);
                if (rowsHere <= 0) break;
                int o = outOff + p0 + h * L;
                for (int t = 0; t < a.tokens; t++) panelPart(seg, panel, h, cols, a, t, out, o + t * outStride, rowsHere);
            }
        }
    }

    /**
     * L rows (part h of a panel) · token t. Written out without helper methods (see PackedQ4.panelHalf1: ours
     * would meet C2's inlining cutoff and box every vector). Four accumulators, one per byte position, keep
     * four multiply-add chains in flight.
     */
    private static void panelPart(MemorySegment seg, long panel, int h, int cols, Activations a, int t, float[] out, int o, int rows) {
        int nb = cols / 32, xb = t * nb;
        float[] xs = a.scaled;
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < nb; b++) {
            long blk = panel + (long) BLOCK_BYTES * b, w = blk + 32 + 4L * h * L;
            int c = 32 * (xb + b);
            FloatVector s0 = FloatVector.zero(F), s1 = s0, s2 = s0, s3 = s0;
            for (int g = 0; g < 8; g++, c += 4) {
                IntVector v = IntVector.fromMemorySegment(IV, seg, w + 64L * g, LE);
                s0 = ((FloatVector) v.and(0xFF).convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F, xs[c]), s0);
                s1 = ((FloatVector) v.and(0xFF00).convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F, xs[c + 1]), s1);
                s2 = ((FloatVector) v.and(0xFF0000).convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F, xs[c + 2]), s2);
                s3 = ((FloatVector) v.lanewise(VectorOperators.LSHR, 24).convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F, xs[c + 3]), s3);
            }
            // f16 scales to floats as in PackedQ4: sign, exponent and mantissa moved into place, times 2^112.
            IntVector hs = (IntVector) ShortVector.fromMemorySegment(Species.S, seg, blk + 2L * h * L, LE).convertShape(VectorOperators.S2I, IV, 0);
            FloatVector sc = hs.lanewise(VectorOperators.LSHL, 13).and(0x8FFFE000).reinterpretAsFloats().mul(0x1p112f);
            acc = s0.add(s1).add(s2.add(s3)).sub(a.offset[xb + b]).fma(sc, acc);
        }
        if (rows == L) acc.intoArray(out, o);
        else acc.intoArray(out, o, VectorMask.fromLong(F, (1L << rows) - 1));
    }

    /**
     * Row r · token t computed plainly from the stored weights and the unscaled activations, in double: what
     * the vector kernel (which sums in a different order) is tested against.
     */
    static float reference(MemorySegment seg, long off, int cols, int r, Activations a, int t) {
        double acc = 0;
        for (int c = 0; c < cols; c++) {
            int i = t * cols + c;
            acc += (double) get(seg, off, cols, r, c) * (a.scaled[i] / PRESCALE[c % 32]);
        }
        return (float) acc;
    }

    // ---- several tokens (prefill): PanelGemm multiplies panels dequantised here ----------------------

    /** tile[tileOff + 16c + j] = weight (row j, column c) of the panel at {@code panel}. */
    static void dequantizePanel(MemorySegment seg, long panel, int cols, float[] tile, int tileOff) {
        if (!PackedQ4.VECTOR) {
            for (int c = 0; c < cols; c++) for (int j = 0; j < PANEL; j++) tile[tileOff + PANEL * c + j] = get(seg, panel, cols, j, c);
            return;
        }
        for (int b = 0, nb = cols / 32; b < nb; b++) {
            long blk = panel + (long) BLOCK_BYTES * b;
            for (int h = 0; h < PANEL / L; h++) {
                IntVector hs = (IntVector) ShortVector.fromMemorySegment(Species.S, seg, blk + 2L * h * L, LE).convertShape(VectorOperators.S2I, IV, 0);
                FloatVector sc = hs.lanewise(VectorOperators.LSHL, 13).and(0x8FFFE000).reinterpretAsFloats().mul(0x1p112f), bias = sc.mul(-128f);
                for (int g = 0; g < 8; g++) {
                    IntVector v = IntVector.fromMemorySegment(IV, seg, blk + 32 + 64L * g + 4L * h * L, LE);
                    int base = tileOff + PANEL * (32 * b + 4 * g) + h * L;
                    // (q + 128) · d − 128 · d: one rounding of the exact q · d, the value the file's layout gives.
                    ((FloatVector) v.and(0xFF).convert(VectorOperators.I2F, 0)).fma(sc, bias).intoArray(tile, base);
                    ((FloatVector) v.lanewise(VectorOperators.LSHR, 8).and(0xFF).convert(VectorOperators.I2F, 0)).fma(sc, bias).intoArray(tile, base + PANEL);
                    ((FloatVector) v.lanewise(VectorOperators.LSHR, 16).and(0xFF).convert(VectorOperators.I2F, 0)).fma(sc, bias).intoArray(tile, base + 2 * PANEL);
                    ((FloatVector) v.lanewise(VectorOperators.LSHR, 24).convert(VectorOperators.I2F, 0)).fma(sc, bias).intoArray(tile, base + 3 * PANEL);
                }
            }
        }
    }
}
