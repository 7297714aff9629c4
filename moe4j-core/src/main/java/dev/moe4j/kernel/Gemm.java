package dev.moe4j.kernel;

import dev.moe4j.tensor.DType;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;

import static dev.moe4j.kernel.Species.F;
import static dev.moe4j.kernel.Species.L;

/**
 * Weight rows times activations for one block of rows, single-threaded: the building block that
 * {@link MatmulJob} spreads over the pool.
 *
 * <p>One token (decode) is a fused dequantise-and-dot per row, reading each weight byte once straight from
 * the mapped file. Several tokens (prefill, an expert's bin) dequantise {@value #R} rows at a time into a
 * small float tile that stays in L1 and multiply it with {@value #T} tokens at a time in a register-blocked
 * micro-kernel, so dequantisation is paid once per row and each weight load feeds {@value #T} FMAs.
 * Repacked types go to their own kernels: {@link PackedQ4}, {@link PackedQ8}, {@link PackedQ4K} and {@link PackedQ6K} for one token,
 * {@link Q4Prefill} (Q4_0 with 16-lane vectors) or {@link PanelGemm} for several.
 */
public final class Gemm {
    static final int R = 4, T = 4;

    private Gemm() {}

    /** Per thread: activations quantised for packed Q4 rows (MatmulJob quantises once per dispatch instead). */
    private static final ThreadLocal<PackedQ4.Activations> ACTIVATIONS = ThreadLocal.withInitial(PackedQ4.Activations::new);
    private static final ThreadLocal<Q4Prefill.Quantized> QUANTIZED = ThreadLocal.withInitial(Q4Prefill.Quantized::new);
    private static final ThreadLocal<PackedQ4K.Activations> ACTIVATIONS_K = ThreadLocal.withInitial(PackedQ4K.Activations::new);
    private static final ThreadLocal<PackedQ8.Activations> ACTIVATIONS8 = ThreadLocal.withInitial(PackedQ8.Activations::new);
    /** Per thread: a float tile of R rows (grown to the widest matrix seen) and R*T sums. */
    private static final ThreadLocal<float[][]> SCRATCH = ThreadLocal.withInitial(() -> new float[][] {new float[0], new float[R * T]});

    /**
     * For rows [r0, r1) of a matrix (rows {@code rowBytes} apart from {@code off}) and tokens t in [0, n):
     * {@code out[outOff + t*outStride + r] = row r · x[xOff + t*cols ..]}.
     */
    public static void rows(DType dt, MemorySegment seg, long off, long rowBytes, int cols, int r0, int r1,
                            float[] x, int xOff, int n, float[] out, int outOff, int outStride) {
        if (dt.isPacked()) {
            if (n > 1 && dt == DType.Q4_0_R16 && Q4Prefill.SUPPORTED)
                Q4Prefill.rows(seg, off, cols, r0, r1, QUANTIZED.get().of(x, xOff, n, cols), out, outOff, outStride);
            else if (n > 1) PanelGemm.rows(dt, seg, off, cols, r0, r1, x, xOff, n, out, outOff, outStride);
            else if (dt == DType.Q4_0_R16) PackedQ4.rows(seg, off, cols, r0, r1, ACTIVATIONS.get().quantize(x, xOff, 1, cols), out, outOff, outStride);
            else if (dt == DType.Q4_K_R16) PackedQ4K.rows(seg, off, cols, r0, r1, ACTIVATIONS_K.get().quantize(x, xOff, 1, cols), out, outOff, outStride);
            else if (dt == DType.Q6_K_R16) PackedQ6K.rows(seg, off, cols, r0, r1, ACTIVATIONS_K.get().quantize(x, xOff, 1, cols), out, outOff, outStride);
            else PackedQ8.rows(seg, off, cols, r0, r1, ACTIVATIONS8.get().prepare(x, xOff, 1, cols), out, outOff, outStride);
            return;
        }
        TypeKernels kernels = TypeKernels.of(dt);   // one dispatch per block of rows; the kernels loop within a row
        if (n == 1) {
            for (int r = r0; r < r1; r++) out[outOff + r] = kernels.dot(seg, off + rowBytes * r, x, xOff, cols);
            return;
        }
        float[][] scratch = SCRATCH.get();
        if (scratch[0].length < R * cols) scratch[0] = new float[R * cols];
        float[] w = scratch[0], sums = scratch[1];
        for (int rb = r0; rb < r1; rb += R) {
            int nr = Math.min(R, r1 - rb);
            for (int i = 0; i < nr; i++) kernels.dequantize(seg, off + rowBytes * (rb + i), w, i * cols, cols);
            for (int t = 0; t < n; t += T) {
                int nt = Math.min(T, n - t);
                micro(w, nr, cols, x, xOff + t * cols, nt, out, outOff + t * outStride + rb, outStride, sums);
            }
        }
    }

    /**
     * out[j*outStride + i] = w[i*cols ..] · x[xOff + j*cols ..] for i < nr, j < nt (both at most 4). Missing
     * rows and tokens alias the first one and their results are dropped, so there is one code path.
     */
    static void micro(float[] w, int nr, int cols, float[] x, int xOff, int nt, float[] out, int outOff, int outStride, float[] s) {
        int w0 = 0, w1 = nr > 1 ? cols : 0, w2 = nr > 2 ? 2 * cols : 0, w3 = nr > 3 ? 3 * cols : 0;
        int x0 = xOff, x1 = nt > 1 ? xOff + cols : xOff, x2 = nt > 2 ? xOff + 2 * cols : xOff, x3 = nt > 3 ? xOff + 3 * cols : xOff;
        FloatVector a00 = FloatVector.zero(F), a01 = a00, a02 = a00, a03 = a00;
        FloatVector a10 = a00, a11 = a00, a12 = a00, a13 = a00;
        FloatVector a20 = a00, a21 = a00, a22 = a00, a23 = a00;
        FloatVector a30 = a00, a31 = a00, a32 = a00, a33 = a00;
        int i = 0;
        for (int end = cols - cols % L; i < end; i += L) {
            FloatVector v0 = FloatVector.fromArray(F, w, w0 + i), v1 = FloatVector.fromArray(F, w, w1 + i);
            FloatVector v2 = FloatVector.fromArray(F, w, w2 + i), v3 = FloatVector.fromArray(F, w, w3 + i);
            FloatVector u = FloatVector.fromArray(F, x, x0 + i);
            a00 = v0.fma(u, a00); a10 = v1.fma(u, a10); a20 = v2.fma(u, a20); a30 = v3.fma(u, a30);
            u = FloatVector.fromArray(F, x, x1 + i);
            a01 = v0.fma(u, a01); a11 = v1.fma(u, a11); a21 = v2.fma(u, a21); a31 = v3.fma(u, a31);
            u = FloatVector.fromArray(F, x, x2 + i);
            a02 = v0.fma(u, a02); a12 = v1.fma(u, a12); a22 = v2.fma(u, a22); a32 = v3.fma(u, a32);
            u = FloatVector.fromArray(F, x, x3 + i);
            a03 = v0.fma(u, a03); a13 = v1.fma(u, a13); a23 = v2.fma(u, a23); a33 = v3.fma(u, a33);
        }
        s[0] = a00.reduceLanes(VectorOperators.ADD); s[1] = a10.reduceLanes(VectorOperators.ADD);
        s[2] = a20.reduceLanes(VectorOperators.ADD); s[3] = a30.reduceLanes(VectorOperators.ADD);
        s[4] = a01.reduceLanes(VectorOperators.ADD); s[5] = a11.reduceLanes(VectorOperators.ADD);
        s[6] = a21.reduceLanes(VectorOperators.ADD); s[7] = a31.reduceLanes(VectorOperators.ADD);
        s[8] = a02.reduceLanes(VectorOperators.ADD); s[9] = a12.reduceLanes(VectorOperators.ADD);
        s[10] = a22.reduceLanes(VectorOperators.ADD); s[11] = a32.reduceLanes(VectorOperators.ADD);
        s[12] = a03.reduceLanes(VectorOperators.ADD); s[13] = a13.reduceLanes(VectorOperators.ADD);
        s[14] = a23.reduceLanes(VectorOperators.ADD); s[15] = a33.reduceLanes(VectorOperators.ADD);
        for (; i < cols; i++) { // tail of plain types whose width is not a multiple of the vector
            for (int r = 0; r < 4; r++) {
                float wv = w[(r == 0 ? w0 : r == 1 ? w1 : r == 2 ? w2 : w3) + i];
                s[r] += wv * x[x0 + i];
                s[4 + r] += wv * x[x1 + i];
                s[8 + r] += wv * x[x2 + i];
                s[12 + r] += wv * x[x3 + i];
            }
        }
        for (int t = 0; t < nt; t++) for (int r = 0; r < nr; r++) out[outOff + t * outStride + r] = s[4 * t + r];
    }
}
