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

    /** y[n, out] = x[n, in] · Wᵀ, with W = w[wOff .. wOff + out·in) as [out, in]. */
    public static void matmul(double[] x, int n, double[] w, int wOff, int out, int in, double[] y) {
        forRows(n, (long) out * in, r -> {
            for (int j = 0; j < out; j++) y[r * out + j] = dot(x, r * in, w, wOff + j * in, in);
        });
    }

    /** dx[n, in] += dy[n, out] · W. */
    public static void matmulBackInput(double[] dy, int n, double[] w, int wOff, int out, int in, double[] dx) {
        forRows(n, (long) out * in, r -> {
            for (int j = 0; j < out; j++) axpy(dy[r * out + j], w, wOff + j * in, dx, r * in, in);
        });
    }

    /** dW[out, in] += dyᵀ · x, summed over the n rows in order. */
    public static void matmulBackWeight(double[] dy, double[] x, int n, int out, int in, double[] dw, int dwOff) {
        forRows(out, (long) n * in, j -> {
            for (int r = 0; r < n; r++) axpy(dy[r * out + j], x, r * in, dw, dwOff + j * in, in);
        });
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
