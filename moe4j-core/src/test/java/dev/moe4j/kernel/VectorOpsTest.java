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
}
