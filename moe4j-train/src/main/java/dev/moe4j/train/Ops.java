package dev.moe4j.train;

import dev.moe4j.kernel.Parallel;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Double-precision kernels of the training engine. Every parallel loop writes disjoint rows and sums in a
 * fixed order, so results are bit-identical whatever the thread count (needed for bit-for-bit resume).
 * Weights are {@code [out, in]} row-major slices of the flat parameter array, as in {@code nn.Linear}.
 */
public final class Ops {
    private static final VectorSpecies<Double> S = DoubleVector.SPECIES_PREFERRED;

    private static final ThreadLocal<Boolean> SERIAL = ThreadLocal.withInitial(() -> false);

    private Ops() {}

    /** Runs body(i) for i in [0, n): in parallel, or in order when already inside a parallel task (see {@link #forEach}). */
    static void forRows(int n, long cost, java.util.function.IntConsumer body) {
        if (SERIAL.get()) for (int i = 0; i < n; i++) body.accept(i);
        else Parallel.forRange(n, cost, body);
    }

    /**
     * Runs independent tasks (one per expert) in parallel, each task's kernels single-threaded: fewer, larger
     * tasks than splitting every small per-expert GEMM.
     */
    static void forEach(int n, long cost, java.util.function.IntConsumer body) {
        if (n == 1) { body.accept(0); return; }   // one task (a dense layer): let its kernels use every thread
        Parallel.forRange(n, cost, i -> {
            boolean was = SERIAL.get();
            SERIAL.set(true);
            try { body.accept(i); } finally { SERIAL.set(was); }
        });
    }

    public static double dot(double[] a, int ao, double[] b, int bo, int n) {
        int i = 0;
        DoubleVector acc = DoubleVector.zero(S);
        for (int ub = S.loopBound(n); i < ub; i += S.length()) {
            acc = DoubleVector.fromArray(S, a, ao + i).fma(DoubleVector.fromArray(S, b, bo + i), acc);
        }
        // Sum lanes in a fixed order: reduceLanes(ADD) may associate differently once JIT-compiled, which
        // would make results depend on which thread ran warm code (and break bit-for-bit resume).
        double s = 0;
        for (int l = 0; l < S.length(); l++) s += acc.lane(l);
        for (; i < n; i++) s += a[ao + i] * b[bo + i];
        return s;
    }

    /** y[yo..] += alpha · x[xo..] over n values. */
    public static void axpy(double alpha, double[] x, int xo, double[] y, int yo, int n) {
        if (alpha == 0) return;
        int i = 0;
        DoubleVector va = DoubleVector.broadcast(S, alpha);
        for (int ub = S.loopBound(n); i < ub; i += S.length()) {
            DoubleVector.fromArray(S, x, xo + i).fma(va, DoubleVector.fromArray(S, y, yo + i)).intoArray(y, yo + i);
        }
        for (; i < n; i++) y[yo + i] += alpha * x[xo + i];
    }

    private static final int RB = 4;   // rows per register block

    /**
     * y[n, out] = x[n, in] · Wᵀ, with W = w[wOff .. wOff + out·in) as [out, in]. Transposes W once so that each
     * output row is accumulated in registers like the backward kernels (no horizontal sums in the inner loop).
     */
    public static void matmul(double[] x, int n, double[] w, int wOff, int out, int in, double[] y) {
        if (n < 2 * RB) {
            forRows(n, (long) out * in, r -> {
                for (int j = 0; j < out; j++) y[r * out + j] = dot(x, r * in, w, wOff + j * in, in);
            });
            return;
        }
        double[] wt = new double[in * out];
        for (int j = 0; j < out; j++) for (int i = 0; i < in; i++) wt[i * out + j] = w[wOff + j * in + i];
        java.util.Arrays.fill(y, 0, n * out, 0);
        int blocks = (n + RB - 1) / RB;
        forRows(blocks, (long) RB * out * in, blk -> {
            int r0 = blk * RB, rows = Math.min(RB, n - r0);
            accumulateAt(y, 0, r0, rows, out, in, x, r0 * in, in, 1, wt, 0, out);
        });
    }

    /** dx[n, in] += dy[n, out] · W, accumulating each dx row in registers over all of W's rows (in order). */
    public static void matmulBackInput(double[] dy, int n, double[] w, int wOff, int out, int in, double[] dx) {
        int blocks = (n + RB - 1) / RB;
        forRows(blocks, (long) RB * out * in, blk -> {
            int r0 = blk * RB, rows = Math.min(RB, n - r0);
            accumulateAt(dx, 0, r0, rows, in, out, dy, r0 * out, out, 1, w, wOff, in);
        });
    }

    /** dW[out, in] += dyᵀ · x, summed over the n rows in order. */
    public static void matmulBackWeight(double[] dy, double[] x, int n, int out, int in, double[] dw, int dwOff) {
        int blocks = (out + RB - 1) / RB;
        forRows(blocks, (long) RB * n * in, blk -> {
            int j0 = blk * RB, rows = Math.min(RB, out - j0);
            accumulateAt(dw, dwOff, j0, rows, in, n, dy, j0, 1, out, x, 0, in);
        });
    }

    /**
     * dst[dstOff + (r0+k)·len + i] += Σ_j c[cOff + k·cK + j·cJ] · src[srcOff + j·srcStride + i] for k < rows, summing
     * j in order: the axpy sequence of the plain kernels, with the destination kept in registers.
     */
    private static void accumulateAt(double[] dst, int dstOff, int r0, int rows, int len, int terms, double[] c, int cOff,
                                     int cK, int cJ, double[] src, int srcOff, int srcStride) {
        int ub = S.loopBound(len), i = 0;
        if (rows == RB) {
            for (; i < ub; i += S.length()) {
                int d0 = dstOff + r0 * len + i;
                DoubleVector a0 = DoubleVector.fromArray(S, dst, d0), a1 = DoubleVector.fromArray(S, dst, d0 + len),
                        a2 = DoubleVector.fromArray(S, dst, d0 + 2 * len), a3 = DoubleVector.fromArray(S, dst, d0 + 3 * len);
                for (int j = 0; j < terms; j++) {
                    DoubleVector v = DoubleVector.fromArray(S, src, srcOff + j * srcStride + i);
                    int cj = cOff + j * cJ;
                    double c0 = c[cj], c1 = c[cj + cK], c2 = c[cj + 2 * cK], c3 = c[cj + 3 * cK];
                    // No skipping of zero coefficients: adding 0·v is exact, and a branch per FMA costs more than it saves.
                    a0 = v.fma(DoubleVector.broadcast(S, c0), a0);
                    a1 = v.fma(DoubleVector.broadcast(S, c1), a1);
                    a2 = v.fma(DoubleVector.broadcast(S, c2), a2);
                    a3 = v.fma(DoubleVector.broadcast(S, c3), a3);
                }
                a0.intoArray(dst, d0);
                a1.intoArray(dst, d0 + len);
                a2.intoArray(dst, d0 + 2 * len);
                a3.intoArray(dst, d0 + 3 * len);
            }
        }
        for (int k = 0; k < rows; k++) {   // rows of a partial block, and every row's tail
            int d = dstOff + (r0 + k) * len;
            if (rows == RB) {
                for (int j = 0; j < terms; j++) {
                    double cv = c[cOff + k * cK + j * cJ];
                    if (cv == 0) continue;
                    for (int t = i; t < len; t++) dst[d + t] += cv * src[srcOff + j * srcStride + t];
                }
            } else {
                for (int j = 0; j < terms; j++) axpy(c[cOff + k * cK + j * cJ], src, srcOff + j * srcStride, dst, d, len);
            }
        }
    }

    /** RMSNorm of each row: y = x · rstd · w; returns rstd per row for the backward pass. */
    public static double[] rmsNorm(double[] x, int n, int d, double[] w, int wOff, double eps, double[] y) {
        double[] rstd = new double[n];
        for (int r = 0; r < n; r++) {
            double ss = dot(x, r * d, x, r * d, d);
            double s = 1.0 / Math.sqrt(ss / d + eps);
            rstd[r] = s;
            for (int i = 0; i < d; i++) y[r * d + i] = x[r * d + i] * s * w[wOff + i];
        }
        return rstd;
    }

    /** dx += ∂/∂x, dw += ∂/∂w of RMSNorm given dy. */
    public static void rmsNormBackward(double[] dy, double[] x, double[] rstd, int n, int d, double[] w, int wOff,
                                       double[] dx, double[] dw, int dwOff) {
        for (int r = 0; r < n; r++) {
            double s = rstd[r], dot = 0;
            for (int i = 0; i < d; i++) dot += dy[r * d + i] * w[wOff + i] * x[r * d + i];
            double c = s * s * s * dot / d;
            for (int i = 0; i < d; i++) {
                dx[r * d + i] += s * dy[r * d + i] * w[wOff + i] - c * x[r * d + i];
                dw[dwOff + i] += dy[r * d + i] * x[r * d + i] * s;
            }
        }
    }

    public static double sigmoid(double x) {
        return 1.0 / (1.0 + Math.exp(-x));
    }

    public static double silu(double x) {
        return x * sigmoid(x);
    }

    public static double siluGrad(double x) {
        double s = sigmoid(x);
        return s * (1 + x * (1 - s));
    }

    public static double softplus(double x) {
        return x > 30 ? x : Math.log1p(Math.exp(x));
    }

    /** In-place softmax of v[off .. off+n); returns log-sum-exp of the input. */
    public static double softmax(double[] v, int off, int n) {
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) max = Math.max(max, v[off + i]);
        double sum = 0;
        for (int i = 0; i < n; i++) { v[off + i] = Math.exp(v[off + i] - max); sum += v[off + i]; }
        for (int i = 0; i < n; i++) v[off + i] /= sum;
        return max + Math.log(sum);
    }
}
