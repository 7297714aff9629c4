package dev.moe4j.model;

import dev.moe4j.kernel.Matrix;
import dev.moe4j.kernel.Mxfp4Kernels;
import dev.moe4j.model.TensorNames.Projection;
import dev.moe4j.moe.ClampedSwiGluExperts;
import dev.moe4j.tensor.DType;
import dev.moe4j.tensor.Tensor;
import dev.moe4j.util.Moe4jException;

import java.lang.foreign.MemorySegment;

/**
 * Loads GPT-OSS experts from any of the three layouts they are published in:
 * <ul>
 * <li>Hugging Face, float: fused and transposed — {@code gate_up_proj [E, in, 2·ffn]} with gate in even and up in
 *     odd columns, {@code down_proj [E, ffn, out]} — re-laid out once, at load time, into {@code [out, in]} rows;</li>
 * <li>Hugging Face, MXFP4 (as openai/gpt-oss publishes): {@code gate_up_proj_blocks [E, 2·ffn, in/32, 16]} and
 *     {@code gate_up_proj_scales [E, 2·ffn, in/32]} (gate in even, up in odd rows), {@code down_proj_blocks} /
 *     {@code _scales}; repacked at load into GGML MXFP4 rows (the same 17 bytes per 32 values), never expanded;</li>
 * <li>GGUF ({@code gpt-oss}, llama.cpp's converter): merged {@code ffn_{gate,up,down}_exps.weight} (MXFP4 or
 *     any type) with {@code .bias} tensors {@code [E, ffn]} and {@code [E, out]}, read in place.</li>
 * </ul>
 * The fused biases are {@code gate_up_proj_bias [E, 2·ffn]} (interleaved) and {@code down_proj_bias [E, out]}.
 */
final class GptOssExperts {
    private GptOssExperts() {}

    static ClampedSwiGluExperts load(ModelConfig c, TensorNames names, Weights w, int l) {
        int n = c.experts(), d = c.hidden(), f = c.expertFfn();
        String gu = names.fusedGateUp(l);
        if (gu == null) return merged(c, names, w, l);
        String dn = names.mergedExperts(l, Projection.DOWN);
        Matrix[] gate = new Matrix[n], up = new Matrix[n], downM = new Matrix[n];
        if (w.has(gu + "_blocks") || w.has(dn + "_blocks")) {
            Tensor g = mxfp4(w, gu, n, 2 * f, d, 2, 0), u = mxfp4(w, gu, n, 2 * f, d, 2, 1), o = mxfp4(w, dn, n, d, f, 1, 0);
            for (int e = 0; e < n; e++) {
                gate[e] = Matrix.slab(g, e);
                up[e] = Matrix.slab(u, e);
                downM[e] = Matrix.slab(o, e);
            }
        } else {
            float[] gateUp = w.toFloats(w.require(gu, n, d, 2L * f));
            float[] down = w.toFloats(w.require(dn, n, f, d));
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
                gate[e] = heap(gu + "[" + e + "].gate", g, f, d);
                up[e] = heap(gu + "[" + e + "].up", u, f, d);
                downM[e] = heap(dn + "[" + e + "]", o, d, f);
            }
        }
        float[] gateUpBias = w.toFloats(w.require(gu + "_bias", n, 2L * f));
        float[] downBias = w.toFloats(w.require(dn + "_bias", n, d));
        float[][] gb = new float[n][f], ub = new float[n][f], db = new float[n][d];
        for (int e = 0; e < n; e++) {
            for (int i = 0; i < f; i++) {
                gb[e][i] = gateUpBias[e * 2 * f + 2 * i];
                ub[e][i] = gateUpBias[e * 2 * f + 2 * i + 1];
            }
            System.arraycopy(downBias, e * d, db[e], 0, d);
        }
        return new ClampedSwiGluExperts(gate, up, downM, gb, ub, db, c.moe().swigluAlpha(), c.moe().swigluLimit());
    }

    /**
     * Every {@code step}-th row from {@code first} of Hugging Face MXFP4 {@code name_blocks} / {@code name_scales}
     * ({@code [experts, rows, cols / 32, 16]} and {@code [experts, rows, cols / 32]} bytes), repacked into a GGML
     * MXFP4 tensor {@code [experts, rows / step, cols]}.
     */
    private static Tensor mxfp4(Weights w, String name, int experts, int rows, int cols, int step, int first) {
        if (cols % 32 != 0)
            throw w.error("tensor '" + name + "_blocks': MXFP4 rows hold whole blocks of 32 values, but rows here have " + cols);
        int blocks = cols / 32, outRows = rows / step;
        Tensor b = w.requireBytes(name + "_blocks", experts, rows, blocks, 16);
        Tensor s = w.requireBytes(name + "_scales", experts, rows, blocks);
        long rowBytes = DType.MXFP4.bytesFor(cols);
        MemorySegment dst = w.allocate(rowBytes * experts * outRows);
        for (long e = 0; e < experts; e++) {
            for (long r = 0; r < outRows; r++) {
                long src = e * rows + r * step + first;
                Mxfp4Kernels.repackHfRow(b.data(), src * blocks * 16, s.data(), src * blocks, cols, dst, (e * outRows + r) * rowBytes);
            }
        }
        if (b.data().isMapped()) b.data().unload();
        return new Tensor(name + (step == 1 ? "" : first == 0 ? ".gate" : ".up"), DType.MXFP4, new long[] {experts, outRows, cols}, dst);
    }

    /** GGUF: merged 3-D expert tensors with 2-D biases, as llama.cpp's gpt-oss graph reads them. */
    private static ClampedSwiGluExperts merged(ModelConfig c, TensorNames names, Weights w, int l) {
        int n = c.experts(), d = c.hidden(), f = c.expertFfn();
        Matrix[] gate = new Matrix[n], up = new Matrix[n], down = new Matrix[n];
        Tensor g = w.requireForProducts(names.mergedExperts(l, Projection.GATE), n, f, d);
        Tensor u = w.requireForProducts(names.mergedExperts(l, Projection.UP), n, f, d);
        Tensor o = w.requireForProducts(names.mergedExperts(l, Projection.DOWN), n, d, f);
        float[][] gb = biases(w, names.mergedExperts(l, Projection.GATE), n, f);
        float[][] ub = biases(w, names.mergedExperts(l, Projection.UP), n, f);
        float[][] db = biases(w, names.mergedExperts(l, Projection.DOWN), n, d);
        for (int e = 0; e < n; e++) {
            gate[e] = Matrix.slab(g, e);
            up[e] = Matrix.slab(u, e);
            down[e] = Matrix.slab(o, e);
        }
        return new ClampedSwiGluExperts(gate, up, down, gb, ub, db, c.moe().swigluAlpha(), c.moe().swigluLimit());
    }

    /** {@code ffn_X_exps.bias [experts, width]} for weight {@code ffn_X_exps.weight}. */
    private static float[][] biases(Weights w, String weightName, int experts, int width) {
        if (!weightName.endsWith(".weight")) throw new Moe4jException("not a weight name: " + weightName);
        float[] all = w.toFloats(w.require(weightName.substring(0, weightName.length() - ".weight".length()) + ".bias", experts, width));
        float[][] out = new float[experts][width];
        for (int e = 0; e < experts; e++) System.arraycopy(all, e * width, out[e], 0, width);
        return out;
    }

    private static Matrix heap(String name, float[] data, int rows, int cols) {
        return new Matrix(name, DType.F32, MemorySegment.ofArray(data), 0, rows, cols);
    }
}
