package dev.moe4j.model;

import dev.moe4j.format.gguf.GgufQuantizer;
import dev.moe4j.format.gguf.GgufQuantizer.Rows;
import dev.moe4j.kernel.Dequant;
import dev.moe4j.kernel.Mxfp4Kernels;
import dev.moe4j.model.TensorNames.Projection;
import dev.moe4j.tensor.DType;
import dev.moe4j.tensor.Tensor;

/**
 * gpt-oss experts into llama.cpp's {@code gpt-oss} layout, as its converter writes them: gate and up split
 * out of the fused {@code gate_up_proj} (even and odd rows), merged {@code ffn_{gate,up,down}_exps.weight}
 * {@code [experts, out, in]} with {@code .bias} tensors {@code [experts, width]}. In a quantised file the experts
 * are MXFP4 whatever the file's type, as in llama.cpp's gpt-oss files. From Hugging Face's MXFP4 blocks the
 * values are decoded and re-encoded, which gives back the same codes and scales (MXFP4's quantiser maps a
 * block's decoded values onto the grid they came from; {@code Mxfp4Test} checks it), so nothing is lost.
 */
final class GptOssToGguf {
    private GptOssToGguf() {}

    static void experts(ModelConfig c, Weights w, TensorNames hf, TensorNames gg, GgufQuantizer q, int l) {
        int n = c.experts(), d = c.hidden(), f = c.expertFfn();
        String gu = hf.fusedGateUp(l), dn = hf.mergedExperts(l, Projection.DOWN);
        Rows gate, up, down;
        if (w.has(gu + "_blocks") || w.has(dn + "_blocks")) {
            gate = mxfp4Rows(w, gu, n, 2 * f, d, 2, 0);
            up = mxfp4Rows(w, gu, n, 2 * f, d, 2, 1);
            down = mxfp4Rows(w, dn, n, d, f, 1, 0);
        } else {
            Tensor fused = w.require(gu, n, d, 2L * f), dt = w.require(dn, n, f, d);
            gate = transposed(fused, d, 2 * f, f, 2, 0);
            up = transposed(fused, d, 2 * f, f, 2, 1);
            down = transposed(dt, f, d, d, 1, 0);
        }
        DType experts = q.quantizes() ? DType.MXFP4 : null;
        add(q, gg.mergedExperts(l, Projection.GATE), new long[] {n, f, d}, gate, experts);
        add(q, gg.mergedExperts(l, Projection.UP), new long[] {n, f, d}, up, experts);
        add(q, gg.mergedExperts(l, Projection.DOWN), new long[] {n, d, f}, down, experts);
        Tensor guBias = w.require(gu + "_bias", n, 2L * f), dnBias = w.require(dn + "_bias", n, d);
        q.add(bias(gg.mergedExperts(l, Projection.GATE)), new long[] {n, f}, strided(guBias, 2, 0));
        q.add(bias(gg.mergedExperts(l, Projection.UP)), new long[] {n, f}, strided(guBias, 2, 1));
        q.add(bias(gg.mergedExperts(l, Projection.DOWN)), new long[] {n, d}, strided(dnBias, 1, 0));
    }

    private static void add(GgufQuantizer q, String name, long[] shape, Rows rows, DType type) {
        if (type == null) q.add(name, shape, rows);
        else q.add(name, shape, rows, type);
    }

    private static String bias(String weightName) {
        return weightName.substring(0, weightName.length() - ".weight".length()) + ".bias";
    }

    /**
     * Rows of a Hugging Face expert tensor stored transposed, {@code [experts, in, stored]}: output row (e, i) is
     * column {@code step · i + first} of expert e, {@code outRows} rows per expert.
     */
    private static Rows transposed(Tensor t, int in, int stored, int outRows, int step, int first) {
        DType type = t.dtype();
        return (row, count, dst, off) -> {
            for (int k = 0; k < count; k++) {
                long e = (row + k) / outRows, col = (row + k) % outRows * step + first;
                long base = e * in * stored + col;
                for (int j = 0; j < in; j++) dst[off + k * in + j] = Dequant.get(type, t.data(), 0, base + (long) j * stored);
            }
        };
    }

    /** Rows of a {@code [experts, stored]} bias: entries {@code step · i + first}. */
    private static Rows strided(Tensor t, int step, int first) {
        long stored = t.dim(1), width = stored / step;
        return (row, count, dst, off) -> {
            for (int k = 0; k < count; k++)
                for (int i = 0; i < width; i++)
                    dst[off + k * (int) width + i] = Dequant.get(t.dtype(), t.data(), 0, (row + k) * stored + i * step + first);
        };
    }

    /** Rows of Hugging Face MXFP4 blocks/scales ({@code step}-th rows from {@code first}), decoded. */
    private static Rows mxfp4Rows(Weights w, String name, int experts, int rows, int cols, int step, int first) {
        if (cols % 32 != 0)
            throw w.error("tensor '" + name + "_blocks': MXFP4 rows hold whole blocks of 32 values, but rows here have " + cols);
        int blocks = cols / 32, outRows = rows / step;
        Tensor b = w.requireBytes(name + "_blocks", experts, rows, blocks, 16);
        Tensor s = w.requireBytes(name + "_scales", experts, rows, blocks);
        long rowBytes = DType.MXFP4.bytesFor(cols);
        return (row, count, dst, off) -> {
            var one = java.lang.foreign.MemorySegment.ofArray(new byte[(int) rowBytes]);
            for (int k = 0; k < count; k++) {
                long e = (row + k) / outRows, r = (row + k) % outRows;
                long src = e * rows + r * step + first;
                Mxfp4Kernels.repackHfRow(b.data(), src * blocks * 16, s.data(), src * blocks, cols, one, 0);
                Dequant.dequantize(DType.MXFP4, one, 0, dst, off + k * cols, cols);
            }
        };
    }
}
