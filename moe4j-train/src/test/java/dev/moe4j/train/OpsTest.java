package dev.moe4j.train;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The blocked SIMD kernels against plain scalar loops on random inputs, including ragged sizes. */
class OpsTest {
    private static double[] rnd(SplittableRandom r, int n) {
        return r.doubles(n, -1, 1).toArray();
    }

    @Test
    void kernelsMatchScalarReference() {
        SplittableRandom r = new SplittableRandom(3);
        for (int[] s : new int[][] {{1, 3, 5}, {4, 8, 8}, {7, 13, 11}, {9, 64, 17}, {12, 33, 64}}) {
            int n = s[0], in = s[1], out = s[2];
            double[] x = rnd(r, n * in), w = rnd(r, 2 + out * in), dy = rnd(r, n * out);
            dy[0] = 0;   // zero coefficients are skipped
            double[] y = new double[n * out];
            Ops.matmul(x, n, w, 2, out, in, y);
            double[] dx = rnd(r, n * in), dx0 = dx.clone();
            Ops.matmulBackInput(dy, n, w, 2, out, in, dx);
            double[] dw = rnd(r, 1 + out * in), dw0 = dw.clone();
            Ops.matmulBackWeight(dy, x, n, out, in, dw, 1);
            for (int a = 0; a < n; a++) for (int j = 0; j < out; j++) {
                double e = 0;
                for (int i = 0; i < in; i++) e += x[a * in + i] * w[2 + j * in + i];
                assertEquals(e, y[a * out + j], 1e-12);
            }
            for (int a = 0; a < n; a++) for (int i = 0; i < in; i++) {
                double e = dx0[a * in + i];
                for (int j = 0; j < out; j++) e += dy[a * out + j] * w[2 + j * in + i];
                assertEquals(e, dx[a * in + i], 1e-12);
            }
            for (int j = 0; j < out; j++) for (int i = 0; i < in; i++) {
                double e = dw0[1 + j * in + i];
                for (int a = 0; a < n; a++) e += dy[a * out + j] * x[a * in + i];
                assertEquals(e, dw[1 + j * in + i], 1e-12);
            }
        }
    }
}
