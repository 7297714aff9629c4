package dev.moe4j.model;

import dev.moe4j.format.gguf.GgufWriter;
import dev.moe4j.util.Moe4jException;

import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/**
 * Reads and writes a {@link RopeScaling}: from config.json's {@code rope_parameters} (transformers 5) or
 * {@code rope_scaling} (transformers 4), standardised as transformers does, and from and to the GGUF
 * {@code {arch}.rope.scaling.*} keys llama.cpp's converter writes ({@code convert_hf_to_gguf.py}, {@code llama-arch.cpp}).
 * Every value is type- and range-checked and reported under its key.
 */
final class RopeScalingReader {
    /** Keys transformers reads as absent when null (its {@code .get(key)} / {@code or default}). */
    private static final Set<String> NULLABLE = Set.of("factor", "attention_factor", "beta_fast", "beta_slow", "mscale",
            "mscale_all_dim", "truncate", "original_max_position_embeddings", "rope_theta", "type", "rope_type");

    private RopeScalingReader() {}

    /** The dictionary holding the rope settings (rope_parameters, else rope_scaling), or null. */
    static ConfigValues hfParameters(ConfigValues v) {
        ConfigValues rp = v.nested("rope_parameters", NULLABLE);
        return rp != null ? rp : v.nested("rope_scaling", NULLABLE);
    }

    /**
     * The scaling a config.json declares; call once the draft's head sizes are known.
     *
     * @param ropeDim the rotary dimension (longrope's factor lists have {@code ropeDim / 2} entries)
     */
    static RopeScaling fromHf(ConfigValues v, int context, int ropeDim) {
        ConfigValues rp = hfParameters(v);
        if (rp == null) return RopeScaling.NONE;
        for (String layerType : List.of("full_attention", "sliding_attention")) {
            if (rp.has(layerType)) throw v.error(rp.describe(layerType) + ": rope settings per layer type are not supported yet");
        }
        String typeKey = rp.has("rope_type") ? "rope_type" : "type";
        String name = rp.string(typeKey, "default");
        RopeScaling.Type type = RopeScaling.Type.fromHf(name);
        if (type == null) {
            throw rp.bad(typeKey, "one of default, linear, dynamic, yarn, llama3, longrope");
        }
        if (type == RopeScaling.Type.NONE) return RopeScaling.NONE;
        // transformers' standardisation: a top-level original_max_position_embeddings wins (Phi-3), then the dict's.
        int original = v.has("original_max_position_embeddings") ? v.positive("original_max_position_embeddings")
                : rp.positive("original_max_position_embeddings", context);
        return switch (type) {
            case NONE -> RopeScaling.NONE;
            case LINEAR -> RopeScaling.linear(positive(rp, "factor", Double.NaN));
            case DYNAMIC -> RopeScaling.dynamic(positive(rp, "factor", Double.NaN), context);
            case YARN -> RopeScaling.yarn(positive(rp, "factor", (double) context / original), original,
                    positive(rp, "attention_factor", Double.NaN, true), orDefault(rp, "beta_fast", 32), orDefault(rp, "beta_slow", 1),
                    nonNegative(rp, "mscale"), nonNegative(rp, "mscale_all_dim"), rp.bool("truncate", true));
            case LLAMA3 -> {
                double low = positive(rp, "low_freq_factor", Double.NaN), high = positive(rp, "high_freq_factor", Double.NaN);
                if (high <= low) throw rp.bad("high_freq_factor", "a number > low_freq_factor (" + low + ")");
                yield RopeScaling.llama3(positive(rp, "factor", Double.NaN), original, low, high);
            }
            case LONGROPE -> RopeScaling.longrope(positive(rp, "factor", (double) context / original), original,
                    positive(rp, "attention_factor", Double.NaN, true), factors(rp, "short_factor", ropeDim / 2),
                    factors(rp, "long_factor", ropeDim / 2));
        };
    }

    /** A positive finite number; {@code absent} when missing (NaN: the key is required). */
    private static double positive(ConfigValues rp, String key, double absent) {
        return positive(rp, key, absent, false);
    }

    private static double positive(ConfigValues rp, String key, double absent, boolean optional) {
        if (!rp.has(key)) {
            if (Double.isNaN(absent) && !optional) throw rp.error(rp.describe(key) + " is missing");
            return absent;
        }
        double x = rp.number(key, 0);
        if (!(x > 0)) throw rp.bad(key, "a number > 0");
        return x;
    }

    /** transformers' {@code get(key) or default}: absent, null or 0 give the default; negative is refused. */
    private static double orDefault(ConfigValues rp, String key, double dflt) {
        double x = rp.number(key, 0);
        if (x < 0) throw rp.bad(key, "a number > 0");
        return x == 0 ? dflt : x;
    }

    private static double nonNegative(ConfigValues rp, String key) {
        double x = rp.number(key, 0);
        if (x < 0) throw rp.bad(key, "a number >= 0");
        return x;
    }

    /** longrope's list of {@code n} positive numbers. */
    private static double[] factors(ConfigValues rp, String key, int n) {
        List<?> list = rp.list(key);
        if (list == null) throw rp.error(rp.describe(key) + " is missing");
        if (list.size() != n) throw rp.bad(key, "a list of " + n + " numbers (half the rotary dimension)");
        double[] out = new double[n];
        for (int i = 0; i < n; i++) {
            if (!(list.get(i) instanceof Number x) || !(x.doubleValue() > 0) || Double.isInfinite(x.doubleValue())) {
                throw rp.error(rp.describe(key) + " entry " + i + " is " + ConfigValues.show(list.get(i)) + "; expected a number > 0");
            }
            out[i] = x.doubleValue();
        }
        return out;
    }

    // ---- GGUF ----

    /**
     * The scaling a GGUF file's {@code rope.scaling.*} keys declare ({@code v} reads under the {@code {arch}.} prefix).
     * llama.cpp's types: none, linear, yarn (longrope keeps its factors in tensors, not read yet). An explicit
     * {@code rope.scaling.yarn_attn_factor} is transformers' {@code attention_factor}; {@code rope.scaling.attn_factor}
     * multiplies the factor on cos/sin, as in llama.cpp. GGUF has no key for yarn's {@code truncate}: the family's
     * own value ({@link Architecture#yarnTruncates}) is taken.
     */
    static RopeScaling fromGguf(ConfigValues v, int context, boolean yarnTruncates) {
        String type = v.string("rope.scaling.type", "none");
        double factor = v.has("rope.scaling.factor") ? ggufPositive(v, "rope.scaling.factor")
                : v.has("rope.scale_linear") ? ggufPositive(v, "rope.scale_linear") : 1;
        RopeScaling s = switch (type) {
            case "none" -> RopeScaling.NONE;
            case "linear" -> RopeScaling.linear(factor);
            case "yarn" -> {
                if (v.has("rope.scaling.yarn_ext_factor") && v.number("rope.scaling.yarn_ext_factor") != 1) {
                    throw v.bad("rope.scaling.yarn_ext_factor", "1 (other extrapolation mixes are not supported)");
                }
                yield RopeScaling.yarn(factor, v.positive("rope.scaling.original_context_length", context),
                        v.has("rope.scaling.yarn_attn_factor") ? ggufPositive(v, "rope.scaling.yarn_attn_factor") : Double.NaN,
                        v.has("rope.scaling.yarn_beta_fast") ? ggufPositive(v, "rope.scaling.yarn_beta_fast") : 32,
                        v.has("rope.scaling.yarn_beta_slow") ? ggufPositive(v, "rope.scaling.yarn_beta_slow") : 1, 0, 0, yarnTruncates);
            }
            case "longrope" -> throw v.error(v.describe("rope.scaling.type")
                    + " is \"longrope\": its factors are tensors (rope_factors_long/short), not supported yet");
            default -> throw v.bad("rope.scaling.type", "one of \"none\", \"linear\", \"yarn\"");
        };
        if (v.has("rope.scaling.attn_factor") && s.type() != RopeScaling.Type.NONE) {
            s = withCosSinFactor(s, s.cosSinFactor() * ggufPositive(v, "rope.scaling.attn_factor"));
        }
        return s;
    }

    private static double ggufPositive(ConfigValues v, String key) {
        double x = v.number(key);
        if (!(x > 0)) throw v.bad(key, "a number > 0");
        return x;
    }

    /** The same scaling with an explicit factor on cos/sin. */
    static RopeScaling withCosSinFactor(RopeScaling s, double f) {
        return new RopeScaling(s.type(), s.factor(), s.originalContext(), s.maxPositions(), f, s.betaFast(), s.betaSlow(),
                s.mscale(), s.mscaleAllDim(), s.truncate(), s.lowFreqFactor(), s.highFreqFactor(), s.shortFactor(), s.longFactor());
    }

    /** The same yarn scaling with DeepSeek's mscale values. */
    static RopeScaling withMscale(RopeScaling s, double mscale, double mscaleAllDim) {
        return new RopeScaling(s.type(), s.factor(), s.originalContext(), s.maxPositions(), s.attentionFactor(), s.betaFast(),
                s.betaSlow(), mscale, mscaleAllDim, s.truncate(), s.lowFreqFactor(), s.highFreqFactor(), s.shortFactor(), s.longFactor());
    }

    /** Refuses, naming {@code dir}, a scaling of family {@code arch} that llama.cpp's GGUF keys cannot hold. */
    static void checkGgufWritable(Path dir, RopeScaling s, Architecture arch) {
        switch (s.type()) {
            case NONE, LINEAR -> { }
            case YARN -> {
                if (s.truncate() != arch.yarnTruncates()) throw new Moe4jException(dir + ": yarn rope scaling with truncate="
                        + s.truncate() + " has no GGUF key (files of " + arch + " are read with truncate=" + arch.yarnTruncates() + ")");
            }
            default -> throw new Moe4jException(dir + ": " + s.type().hfName + " rope scaling cannot be written as GGUF yet (its GGUF form is a tensor of factors)");
        }
    }

    /**
     * Writes the scaling as llama.cpp's converter does (type, factor, original context, yarn's betas), plus yarn's
     * factor on cos/sin as {@code yarn_attn_factor}, so that reading the file gives back the same scaling.
     */
    static void writeGguf(RopeScaling s, String p, GgufWriter g) {
        switch (s.type()) {
            case NONE -> { }
            case LINEAR -> {
                g.putString(p + "rope.scaling.type", "linear");
                g.putFloat32(p + "rope.scaling.factor", (float) s.factor());
            }
            case YARN -> {
                g.putString(p + "rope.scaling.type", "yarn");
                g.putFloat32(p + "rope.scaling.factor", (float) s.factor());
                g.putUInt32(p + "rope.scaling.original_context_length", s.originalContext());
                g.putFloat32(p + "rope.scaling.yarn_attn_factor", (float) s.cosSinFactor());
                g.putFloat32(p + "rope.scaling.yarn_beta_fast", (float) s.betaFast());
                g.putFloat32(p + "rope.scaling.yarn_beta_slow", (float) s.betaSlow());
            }
            default -> throw new IllegalArgumentException(s.type().hfName + " rope scaling has no GGUF keys");
        }
    }
}
