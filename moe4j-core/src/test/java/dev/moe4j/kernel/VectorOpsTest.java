package dev.moe4j.kernel;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;

class VectorOpsTest {
    @Test
    void dotAndAxpyMatchPlainLoopsAtEveryLengthAndOffset() {
        SplittableRandom r = new SplittableRandom(5);
        for (int n = 0; n < 100; n++) {
            float[] a = new float[n + 7], b = new float[n + 9];
            for (int i = 0; i < a.length; i++) a[i] = (float) r.nextDouble(-1, 1);
            for (int i = 0; i < b.length; i++) b[i] = (float) r.nextDouble(-1, 1);
            int ao = n % 7, bo = n % 9;
            double want = 0;
            for (int i = 0; i < n; i++) want += (double) a[ao + i] * b[bo + i];
            assertEquals(want, VectorOps.dot(a, ao, b, bo, n), 1e-5, "dot n=" + n);

            float[] y = b.clone();
            VectorOps.axpy(0.37f, a, ao, y, bo, n);
            for (int i = 0; i < b.length; i++) {
                float expect = i >= bo && i < bo + n ? b[i] + 0.37f * a[i - bo + ao] : b[i];
                assertEquals(expect, y[i], 1e-6, "axpy n=" + n + " i=" + i);
            }
        }
    }

    @Test
    void siluMulMatchesTheScalarSiluAtEveryLength() {
        SplittableRandom r = new SplittableRandom(9);
        for (int n = 0; n < 70; n++) {
            float[] g = new float[n + 3], u = new float[n + 3];
            for (int i = 0; i < g.length; i++) {
                g[i] = (float) r.nextDouble(-12, 12);
                u[i] = (float) r.nextDouble(-2, 2);
            }
            if (n > 4) { g[0] = -100f; g[1] = 100f; g[2] = 0f; g[3] = -0.5f; }   // exp over/underflow, zero
            float[] got = g.clone();
            VectorOps.siluMul(got, u, n);
            for (int i = 0; i < g.length; i++) {
                float want = i < n ? Activations.silu(g[i]) * u[i] : g[i];
                assertEquals(want, got[i], 4e-7 * Math.abs(want) + 1e-30, "n=" + n + " i=" + i + " g=" + g[i]);
            }
        }
    }
}
