package dev.moe4j.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/** Dot products and scaled adds over float arrays (the inner loops of attention), and the SwiGLU gate. */
public final class VectorOps {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int L = F.length();

    private VectorOps() {}

    /** Σ a[aOff+i]·b[bOff+i] for i < n. */
    public static float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        int i = 0;
        float s = 0;
        if (n >= L) {
            FloatVector acc = FloatVector.zero(F);
            for (int end = n - n % L; i < end; i += L) {
                acc = FloatVector.fromArray(F, a, aOff + i).fma(FloatVector.fromArray(F, b, bOff + i), acc);
            }
            s = acc.reduceLanes(VectorOperators.ADD);
        }
        for (; i < n; i++) s += a[aOff + i] * b[bOff + i];
        return s;
    }

    /** y[yOff+i] += alpha·x[xOff+i] for i < n. */
    public static void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int n) {
        int i = 0;
        if (n >= L) {
            FloatVector a = FloatVector.broadcast(F, alpha);
            for (int end = n - n % L; i < end; i += L) {
                FloatVector.fromArray(F, x, xOff + i).fma(a, FloatVector.fromArray(F, y, yOff + i)).intoArray(y, yOff + i);
            }
        }
        for (; i < n; i++) y[yOff + i] += alpha * x[xOff + i];
    }

    /**
     * g[i] = silu(g[i])·u[i] = g[i] / (1 + e^-g[i]) · u[i] for i < n: SwiGLU's gate. Lane-parallel (the
     * Vector API's exp, within a few ulp of {@link Activations#silu}); a prompt evaluates millions of these,
     * and one at a time they took a fifth of olmoe-mini's prefill on the dispatching thread.
     */
    public static void siluMul(float[] g, float[] u, int n) {
        int i = 0;
        for (int end = n - n % L; i < end; i += L) {
            FloatVector v = FloatVector.fromArray(F, g, i);
            v.div(v.neg().lanewise(VectorOperators.EXP).add(1f)).mul(FloatVector.fromArray(F, u, i)).intoArray(g, i);
        }
        for (; i < n; i++) g[i] = Activations.silu(g[i]) * u[i];
    }
}
