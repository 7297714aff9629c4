package dev.moe4j.model;

import dev.moe4j.kernel.Matrix;
import dev.moe4j.moe.ClampedSwiGluExperts;
import dev.moe4j.tensor.DType;

import java.lang.foreign.MemorySegment;

/**
 * Loads GPT-OSS experts. Hugging Face stores them fused and transposed — {@code gate_up_proj [E, in, 2·ffn]}
 * with gate in even and up in odd columns, {@code down_proj [E, ffn, out]} — so they are re-laid out once,
 * at load time, into the {@code [out, in]} rows the kernels read.
 */
final class GptOssExperts {
    private GptOssExperts() {}

    static ClampedSwiGluExperts load(ModelConfig c, TensorNames names, Weights w, int l) {
        int n = c.experts(), d = c.hidden(), f = c.expertFfn();
        String gu = names.fusedGateUp(l), dn = names.mergedExperts(l, TensorNames.Projection.DOWN);
        float[] gateUp = w.toFloats(w.require(gu, n, d, 2L * f));
        float[] down = w.toFloats(w.require(dn, n, f, d));
        float[] gateUpBias = w.toFloats(w.require(gu + "_bias", n, 2L * f));
        float[] downBias = w.toFloats(w.require(dn + "_bias", n, d));
        Matrix[] gate = new Matrix[n], up = new Matrix[n], downM = new Matrix[n];
        float[][] gb = new float[n][f], ub = new float[n][f], db = new float[n][d];
        for (int e = 0; e < n; e++) {
            float[] g = new float[f * d], u = new float[f * d], o = new float[d * f];
            int base = e * d * 2 * f;
            for (int in = 0; in < d; in++) {
                for (int i = 0; i < f; i++) {
                    g[i * d + in] = gateUp[base + in * 2 * f + 2 * i];
                    u[i * d + in] = gateUp[base + in * 2 * f + 2 * i + 1];
                }
            }
            for (int i = 0; i < f; i++) for (int out = 0; out < d; out++) o[out * f + i] = down[e * f * d + i * d + out];
            for (int i = 0; i < f; i++) {
                gb[e][i] = gateUpBias[e * 2 * f + 2 * i];
                ub[e][i] = gateUpBias[e * 2 * f + 2 * i + 1];
            }
            System.arraycopy(downBias, e * d, db[e], 0, d);
            gate[e] = heap(gu + "[" + e + "].gate", g, f, d);
            up[e] = heap(gu + "[" + e + "].up", u, f, d);
            downM[e] = heap(dn + "[" + e + "]", o, d, f);
        }
        return new ClampedSwiGluExperts(gate, up, downM, gb, ub, db, c.moe().swigluAlpha(), c.moe().swigluLimit());
    }

    private static Matrix heap(String name, float[] data, int rows, int cols) {
        return new Matrix(name, DType.F32, MemorySegment.ofArray(data), 0, rows, cols);
    }
}
