package dev.moe4j.kernel;

import dev.moe4j.tensor.DType;
import jdk.incubator.vector.FloatVector;

import java.lang.foreign.MemorySegment;

import static dev.moe4j.kernel.PackedQ4.PANEL;
import static dev.moe4j.kernel.Species.F;
import static dev.moe4j.kernel.Species.L;

/**
 * Several tokens (prefill, an expert's bin) times packed weights ({@link DType#Q4_0_R16},
 * {@link DType#Q8_0_R16}, {@link DType#Q4_K_R16}, {@link DType#Q6_K_R16}): two panels at a time are dequantised into a float tile, column-major with 16 rows
 * per column, and multiplied with up to 8 tokens at a time as outer products, 2 × 16 rows per column load.
 * The tokens are read {@link Interleaved}, eight to a column: one index for all eight broadcasts instead of
 * eight (olmoe-mini Q4_0 pp128 through this path: 725 → 821 tokens/s in `bench`).
 */
public final class PanelGemm {
    private PanelGemm() {}

    /** Tokens per outer-product pass: 2 × T accumulators of L rows stay in registers. */
    static final int T_MAX = 8;
    /** Per thread: [0] two panels dequantised, column-major (16 rows per column); [1] the accumulators' sums. */
    private static final ThreadLocal<float[][]> TILE = ThreadLocal.withInitial(() -> new float[][] {new float[0], new float[2 * T_MAX * L]});
    private static final ThreadLocal<Interleaved> INTERLEAVED = ThreadLocal.withInitial(Interleaved::new);

    /**
     * Activations of n tokens in groups of {@value #T_MAX}: {@code data[g·8·cols + 8c + j]} = token 8g + j,
     * column c; zero past the last token. Prepared once per dispatch ({@link MatmulJob}) and reused.
     */
    public static final class Interleaved {
        float[] data = new float[0];
        int tokens, cols;

        /** Interleaves {@code n} rows of {@code cols} values starting at {@code x[xOff]}. */
        public Interleaved of(float[] x, int xOff, int n, int cols) {
            size(n, cols);
            for (int g = 0; g < groups(); g++) group(x, xOff, g);
            return this;
        }

        /** Makes room for n tokens of cols values; then {@link #group} fills each group (from any thread). */
        Interleaved size(int n, int cols) {
            int groups = (n + T_MAX - 1) / T_MAX;
            if (data.length < groups * T_MAX * cols) data = new float[groups * T_MAX * cols];
            this.tokens = n;
            this.cols = cols;
            return this;
        }

        int groups() {
            return (tokens + T_MAX - 1) / T_MAX;
        }

        /** Interleaves tokens [8g, 8g + 8) of x (rows of cols values from xOff). */
        void group(float[] x, int xOff, int g) {
            int base = g * T_MAX * cols;
            for (int j = 0; j < T_MAX; j++) {
                int t = g * T_MAX + j;
                if (t >= tokens) { for (int c = 0; c < cols; c++) data[base + T_MAX * c + j] = 0; continue; }
                for (int c = 0, src = xOff + t * cols; c < cols; c++) data[base + T_MAX * c + j] = x[src + c];
            }
        }
    }

    /**
     * For rows [r0, r1) (r0 a multiple of 16) and n tokens of float activations:
     * {@code out[outOff + t*outStride + r] = row r · x[xOff + t*cols ..]}. With more than one token the
     * dequantisation of a panel is shared by all tokens, so floats beat 8-bit activations here.
     */
    public static void rows(DType dt, MemorySegment seg, long off, int cols, int r0, int r1, float[] x, int xOff, int n,
                            float[] out, int outOff, int outStride) {
        rows(dt, seg, off, cols, r0, r1, INTERLEAVED.get().of(x, xOff, n, cols), out, outOff, outStride);
    }

    /** As above, with the tokens already interleaved. */
    public static void rows(DType dt, MemorySegment seg, long off, int cols, int r0, int r1, Interleaved xi,
                            float[] out, int outOff, int outStride) {
        if (!dt.isPacked()) throw new IllegalArgumentException(dt + " is not a packed type");
        if (r0 % PANEL != 0) throw new IllegalArgumentException("rows must start on a panel, got " + r0);
        if (xi.cols != cols) throw new IllegalArgumentException("activations have " + xi.cols + " columns, weights " + cols);
        float[][] scratch = TILE.get();
        if (scratch[0].length < 2 * PANEL * cols) scratch[0] = new float[2 * PANEL * cols];
        float[] tile = scratch[0], sums = scratch[1], xt = xi.data;
        int n = xi.tokens;
        long panelBytes = PANEL * dt.bytesFor(cols);
        int groupsPerPanel = PANEL / L;
        for (int p0 = r0; p0 < r1; p0 += 2 * PANEL) {
            // Two panels at a time (or the last one); their row groups are taken two by two.
            int panels = Math.min(2, (r1 - p0 + PANEL - 1) / PANEL);
            for (int q = 0; q < panels; q++) {
                long panel = off + panelBytes * (p0 / PANEL + q);
                switch (dt) {
                    case Q4_0_R16 -> PackedQ4.dequantizePanel(seg, panel, cols, tile, q * PANEL * cols);
                    case Q4_K_R16 -> PackedQ4K.dequantizePanel(seg, panel, cols, tile, q * PANEL * cols);
                    case Q6_K_R16 -> PackedQ6K.dequantizePanel(seg, panel, cols, tile, q * PANEL * cols);
                    default -> PackedQ8.dequantizePanel(seg, panel, cols, tile, q * PANEL * cols);
                }
            }
            int rowsHere = Math.min(panels * PANEL, r1 - p0), groups = (rowsHere + L - 1) / L;
            for (int g = 0; g < groups; g += 2) {
                int gB = Math.min(g + 1, groups - 1);   // an odd last group pairs with itself; its second copy is dropped
                int tA = (g / groupsPerPanel) * PANEL * cols + (g % groupsPerPanel) * L;
                int tB = (gB / groupsPerPanel) * PANEL * cols + (gB % groupsPerPanel) * L;
                for (int t = 0; t < n; t += T_MAX) {
                    int nt = Math.min(T_MAX, n - t);
                    if (nt <= 4) outer4(tile, tA, tB, cols, xt, t * cols, sums);
                    else outer(tile, tA, tB, cols, xt, t * cols, sums);
                    int rowA = p0 + g * L, rowB = p0 + (g + 1) * L;
                    for (int j = 0; j < nt; j++) {
                        int o = outOff + (t + j) * outStride;
                        System.arraycopy(sums, 2 * j * L, out, o + rowA, Math.min(L, r1 - rowA));
                        if (gB != g) System.arraycopy(sums, (2 * j + 1) * L, out, o + rowB, Math.min(L, r1 - rowB));
                    }
                }
            }
        }
    }

    /**
     * Two groups of L rows (tile columns at tA and tB, 16 floats apart per column) · the 8 interleaved tokens
     * at xt[xtOff]: per column two weight loads and one broadcast per token feed 16 multiply-adds.
     * sums[(2j + g)·L ..] receives token j, group g.
     */
    private static void outer(float[] tile, int tA, int tB, int cols, float[] xt, int xtOff, float[] sums) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
        FloatVector b0 = a0, b1 = a0, b2 = a0, b3 = a0, b4 = a0, b5 = a0, b6 = a0, b7 = a0;
        for (int c = 0; c < cols; c++) {
            FloatVector va = FloatVector.fromArray(F, tile, tA + PANEL * c), vb = FloatVector.fromArray(F, tile, tB + PANEL * c);
            int xo = xtOff + T_MAX * c;
            FloatVector u = FloatVector.broadcast(F, xt[xo]);
            a0 = va.fma(u, a0); b0 = vb.fma(u, b0);
            u = FloatVector.broadcast(F, xt[xo + 1]);
            a1 = va.fma(u, a1); b1 = vb.fma(u, b1);
            u = FloatVector.broadcast(F, xt[xo + 2]);
            a2 = va.fma(u, a2); b2 = vb.fma(u, b2);
            u = FloatVector.broadcast(F, xt[xo + 3]);
            a3 = va.fma(u, a3); b3 = vb.fma(u, b3);
            u = FloatVector.broadcast(F, xt[xo + 4]);
            a4 = va.fma(u, a4); b4 = vb.fma(u, b4);
            u = FloatVector.broadcast(F, xt[xo + 5]);
            a5 = va.fma(u, a5); b5 = vb.fma(u, b5);
            u = FloatVector.broadcast(F, xt[xo + 6]);
            a6 = va.fma(u, a6); b6 = vb.fma(u, b6);
            u = FloatVector.broadcast(F, xt[xo + 7]);
            a7 = va.fma(u, a7); b7 = vb.fma(u, b7);
        }
        a0.intoArray(sums, 0); b0.intoArray(sums, L); a1.intoArray(sums, 2 * L); b1.intoArray(sums, 3 * L);
        a2.intoArray(sums, 4 * L); b2.intoArray(sums, 5 * L); a3.intoArray(sums, 6 * L); b3.intoArray(sums, 7 * L);
        a4.intoArray(sums, 8 * L); b4.intoArray(sums, 9 * L); a5.intoArray(sums, 10 * L); b5.intoArray(sums, 11 * L);
        a6.intoArray(sums, 12 * L); b6.intoArray(sums, 13 * L); a7.intoArray(sums, 14 * L); b7.intoArray(sums, 15 * L);
    }

    /** {@link #outer} for at most 4 tokens: half the accumulators, so none of the multiply-adds is wasted. */
    private static void outer4(float[] tile, int tA, int tB, int cols, float[] xt, int xtOff, float[] sums) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
        for (int c = 0; c < cols; c++) {
            FloatVector va = FloatVector.fromArray(F, tile, tA + PANEL * c), vb = FloatVector.fromArray(F, tile, tB + PANEL * c);
            int xo = xtOff + T_MAX * c;
            FloatVector u = FloatVector.broadcast(F, xt[xo]);
            a0 = va.fma(u, a0); b0 = vb.fma(u, b0);
            u = FloatVector.broadcast(F, xt[xo + 1]);
            a1 = va.fma(u, a1); b1 = vb.fma(u, b1);
            u = FloatVector.broadcast(F, xt[xo + 2]);
            a2 = va.fma(u, a2); b2 = vb.fma(u, b2);
            u = FloatVector.broadcast(F, xt[xo + 3]);
            a3 = va.fma(u, a3); b3 = vb.fma(u, b3);
        }
        a0.intoArray(sums, 0); b0.intoArray(sums, L); a1.intoArray(sums, 2 * L); b1.intoArray(sums, 3 * L);
        a2.intoArray(sums, 4 * L); b2.intoArray(sums, 5 * L); a3.intoArray(sums, 6 * L); b3.intoArray(sums, 7 * L);
    }
}
