package dev.moe4j.model;

import dev.moe4j.format.safetensors.SafetensorsStore;
import dev.moe4j.format.safetensors.SafetensorsWriter;
import dev.moe4j.kernel.Dequant;
import dev.moe4j.tensor.DType;
import dev.moe4j.tensor.Tensor;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Predicate;

/**
 * Test-side writer of quantised Hugging Face checkpoints from float ones, in the layouts the publishers use, plus
 * an F32 copy holding exactly the values the quantised one stands for (computed here, independently of moe4j's
 * kernels): block FP8 as DeepSeek-V3 / Qwen3-FP8 ({@code W.weight} F8_E4M3, {@code W.weight_scale_inv} F32
 * {@code [ceil(rows/br), ceil(cols/bc)]}, x = e4m3 · scale) and MXFP4 as gpt-oss ({@code *_blocks} / {@code *_scales}
 * U8, value 2j in the low nibble of byte j, x = e2m1 · 2^(scale − 127)).
 */
final class QuantizedCheckpoints {
    private QuantizedCheckpoints() {}

    static final float[] E2M1 = {0f, 0.5f, 1f, 1.5f, 2f, 3f, 4f, 6f, -0f, -0.5f, -1f, -1.5f, -2f, -3f, -4f, -6f};

    /** Linear weights DeepSeek-V3 and Qwen3 store in FP8 (not the embedding, head, router or norms), whose rows are whole 32s. */
    static boolean fp8Linear(String name, long[] shape) {
        return shape.length == 2 && shape[1] % 32 == 0 && (name.endsWith("_proj.weight") || name.endsWith("_proj_with_mqa.weight"));
    }

    /** FP8 checkpoint in {@code out} and its dequantised F32 copy in {@code copy}. */
    static void fp8(Path ref, Path out, Path copy, int br, int bc) throws IOException {
        SafetensorsWriter q = new SafetensorsWriter(), f = new SafetensorsWriter();
        try (SafetensorsStore s = SafetensorsStore.open(ref)) {
            for (String name : s.names()) {
                Tensor t = s.tensor(name);
                float[] v = floats(t);
                if (!fp8Linear(name, t.shape())) {
                    q.add(name, DType.F32, t.shape(), v);
                    f.add(name, DType.F32, t.shape(), v);
                    continue;
                }
                int rows = (int) t.dim(0), cols = (int) t.dim(1), sr = (rows + br - 1) / br, sc = (cols + bc - 1) / bc;
                float[] scales = new float[sr * sc];
                for (int i = 0; i < rows; i++)
                    for (int j = 0; j < cols; j++)
                        scales[(i / br) * sc + j / bc] = Math.max(scales[(i / br) * sc + j / bc], Math.abs(v[i * cols + j]) / 448f);
                byte[] codes = new byte[rows * cols];
                float[] back = new float[rows * cols];
                for (int i = 0; i < rows; i++) {
                    for (int j = 0; j < cols; j++) {
                        float s1 = scales[(i / br) * sc + j / bc];
                        codes[i * cols + j] = (byte) nearestE4m3(s1 == 0 ? 0 : v[i * cols + j] / s1);
                        back[i * cols + j] = (float) e4m3(codes[i * cols + j] & 0xFF) * s1;
                    }
                }
                q.addRaw(name, DType.F8_E4M3, t.shape(), codes);
                q.add(name + "_scale_inv", DType.F32, new long[] {sr, sc}, scales);
                f.add(name, DType.F32, t.shape(), back);
            }
        }
        write(ref, out, q, "{\"quant_method\": \"fp8\", \"fmt\": \"e4m3\", \"activation_scheme\": \"dynamic\", \"weight_block_size\": [" + br + ", " + bc + "]}");
        write(ref, copy, f, null);
    }

    /** gpt-oss with MXFP4 experts in {@code out} and its dequantised F32 copy in {@code copy}. */
    static void mxfp4(Path ref, Path out, Path copy) throws IOException {
        SafetensorsWriter q = new SafetensorsWriter(), f = new SafetensorsWriter();
        try (SafetensorsStore s = SafetensorsStore.open(ref)) {
            for (String name : s.names()) {
                Tensor t = s.tensor(name);
                float[] v = floats(t);
                if (!(name.endsWith("experts.gate_up_proj") || name.endsWith("experts.down_proj"))) {
                    q.add(name, DType.F32, t.shape(), v);
                    f.add(name, DType.F32, t.shape(), v);
                    continue;
                }
                // Stored [E, in, out]; MXFP4 blocks run along `in` of each output row: [E, out, in/32, 16].
                int e = (int) t.dim(0), in = (int) t.dim(1), outs = (int) t.dim(2), blocks = in / 32;
                byte[] packed = new byte[e * outs * blocks * 16], scales = new byte[e * outs * blocks];
                float[] back = new float[v.length];
                for (int x = 0; x < e; x++) {
                    for (int o = 0; o < outs; o++) {
                        for (int b = 0; b < blocks; b++) {
                            float amax = 0;
                            for (int k = 0; k < 32; k++) amax = Math.max(amax, Math.abs(v[(x * in + b * 32 + k) * outs + o]));
                            int exp = amax == 0 ? 0 : Math.getExponent(amax) - 2 + 127;   // largest value lands in [4, 8)
                            double step = Math.pow(2, exp - 127);
                            int at = (x * outs + o) * blocks + b;
                            scales[at] = (byte) exp;
                            for (int k = 0; k < 32; k++) {
                                int idx = (x * in + b * 32 + k) * outs + o;
                                int code = nearestE2m1(v[idx] / step);
                                packed[at * 16 + k / 2] |= (byte) (k % 2 == 0 ? code : code << 4);
                                back[idx] = (float) (E2M1[code] * step);
                            }
                        }
                    }
                }
                q.addRaw(name + "_blocks", DType.U8, new long[] {e, outs, blocks, 16}, packed);
                q.addRaw(name + "_scales", DType.U8, new long[] {e, outs, blocks}, scales);
                f.add(name, DType.F32, t.shape(), back);
            }
        }
        write(ref, out, q, "{\"quant_method\": \"mxfp4\", \"modules_to_not_convert\": [\"model.layers.*.self_attn\", \"model.layers.*.mlp.router\", \"model.embed_tokens\", \"lm_head\"]}");
        write(ref, copy, f, null);
    }

    /** Writes a checkpoint folder: the tensors, and the reference's config.json with {@code quantization} added. */
    static void write(Path ref, Path dir, SafetensorsWriter w, String quantization) throws IOException {
        Files.createDirectories(dir);
        w.write(dir.resolve("model.safetensors"));
        String config = Files.readString(ref.resolve("config.json"));
        if (quantization != null) config = config.replaceFirst("\\{", "{\"quantization_config\": " + Matcher.quote(quantization) + ",");
        Files.writeString(dir.resolve("config.json"), config);
    }

    /** Edits config.json's text (for the error cases). */
    static void editConfig(Path dir, String from, String to) throws IOException {
        Path f = dir.resolve("config.json");
        String s = Files.readString(f);
        if (!s.contains(from)) throw new IllegalStateException("config.json has no " + from);
        Files.writeString(f, s.replace(from, to));
    }

    /** Rewrites {@code dir/model.safetensors} with the tensors {@code keep} accepts, {@code change} applied to each. */
    static void rewrite(Path dir, Predicate<String> keep, Map<String, Tensor> replace) throws IOException {
        SafetensorsWriter w = new SafetensorsWriter();
        Path file = dir.resolve("model.safetensors"), tmp = dir.resolve("model.tmp");
        try (SafetensorsStore s = SafetensorsStore.open(file)) {
            for (String name : s.names()) {
                if (!keep.test(name)) continue;
                Tensor t = replace.getOrDefault(name, s.tensor(name));
                byte[] b = t.data().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
                w.addRaw(name, t.dtype(), t.shape(), b);
            }
        }
        w.write(tmp);
        Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }

    static float[] floats(Tensor t) {
        float[] v = new float[(int) t.elementCount()];
        Dequant.dequantize(t.dtype(), t.data(), 0, v, 0, v.length);
        return v;
    }

    /** e4m3fn by its definition (see Float8Test). */
    static double e4m3(int b) {
        int s = b >> 7 & 1, e = b >> 3 & 15, m = b & 7;
        if (e == 15 && m == 7) return Double.NaN;
        double v = e == 0 ? Math.pow(2, -6) * m / 8 : Math.pow(2, e - 7) * (1 + m / 8.0);
        return s == 1 ? -v : v;
    }

    private static final double[] E4M3 = new double[256];
    static {
        for (int b = 0; b < 256; b++) E4M3[b] = e4m3(b);
    }

    /** The e4m3 byte nearest x (|x| ≤ 448): the nearest magnitude among the 127 non-NaN ones, then the sign. */
    static int nearestE4m3(double x) {
        double a = Math.abs(x);
        int best = 0;
        for (int b = 1; b < 0x7F; b++) if (Math.abs(E4M3[b] - a) < Math.abs(E4M3[best] - a)) best = b;
        return x < 0 && best != 0 ? best | 0x80 : best;
    }

    static int nearestE2m1(double x) {
        int best = 0;
        for (int c = 1; c < 16; c++) if (Math.abs(E2M1[c] - x) < Math.abs(E2M1[best] - x)) best = c;
        return best;
    }

    private static final class Matcher {
        static String quote(String s) {
            return java.util.regex.Matcher.quoteReplacement(s);
        }
    }
}
