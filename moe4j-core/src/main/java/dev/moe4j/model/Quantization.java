package dev.moe4j.model;

import dev.moe4j.util.Json;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * How a Hugging Face checkpoint stores quantised weights ({@code config.json}'s {@code quantization_config}):
 * none; {@code fp8} — float8 e4m3 weights, each with a float {@code weight_scale_inv} per {@code blockRows ×
 * blockCols} block (DeepSeek-V3, Qwen3 "-FP8": {@code weight_block_size [128, 128]}); or {@code mxfp4} — gpt-oss
 * experts as {@code *_blocks} / {@code *_scales} (read by the family itself). Column blocks must be whole
 * multiples of 32 values (the scale of each 32 is carried into the repacked rows).
 */
public record Quantization(String method, int blockRows, int blockCols) {
    public static final Quantization NONE = new Quantization("none", 0, 0);

    public boolean isFp8() {
        return method.equals("fp8");
    }

    /** Reads {@code dir/config.json}'s quantization_config; a missing config.json is left to the config reader. */
    public static Quantization readFolder(Path dir) {
        Path file = dir.resolve("config.json");
        if (!Files.isRegularFile(file)) return NONE;
        return read(file, Json.parseFile(file, Json.MAX_CONFIG_BYTES));
    }

    static Quantization read(Path file, Map<String, Object> json) {
        ConfigValues q = ConfigValues.json(file, json, Set.of()).nested("quantization_config");
        if (q == null) return NONE;
        String method = q.string("quant_method");
        switch (method) {
            case "mxfp4" -> { return new Quantization(method, 0, 0); }
            case "fp8" -> { }
            default -> throw q.error(q.describe("quant_method") + " is '" + method + "'; moe4j reads 'fp8' (block float8) and 'mxfp4'");
        }
        if (q.has("fmt") && !q.string("fmt").equals("e4m3"))
            throw q.error(q.describe("fmt") + " is '" + q.string("fmt") + "'; moe4j reads float8 'e4m3'");
        List<?> block = q.list("weight_block_size");
        if (block == null) throw q.error(q.describe("weight_block_size") + " is missing (per-tensor fp8 scales are not supported)");
        if (block.size() != 2 || !(block.get(0) instanceof Long r) || !(block.get(1) instanceof Long c)
                || r < 1 || c < 32 || c % 32 != 0 || r > 1 << 20 || c > 1 << 20)
            throw q.bad("weight_block_size", "[rows, columns] with rows ≥ 1 and columns a positive multiple of 32");
        return new Quantization(method, (int) (long) r, (int) (long) c);
    }
}
