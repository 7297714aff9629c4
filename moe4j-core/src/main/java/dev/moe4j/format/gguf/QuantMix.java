package dev.moe4j.format.gguf;

import dev.moe4j.tensor.DType;

import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A llama-quantize mixture (Q4_K_M, Q5_K_M): a base K-quant type for most weights and more bits for the tensors
 * that suffer most from quantisation, chosen by tensor name and layer as llama.cpp's
 * {@code llama_tensor_get_type_impl} ({@code src/llama-quant.cpp}, August 2026) does for these two file types,
 * without an importance matrix and for any architecture but Falcon:
 * <ul>
 * <li>{@code output.weight}, or {@code token_embd.weight} when there is no {@code output.weight} (tied
 *     embeddings): Q6_K (Q8_0 if its rows are not whole 256-value blocks). An untied {@code token_embd} keeps
 *     the base type.</li>
 * <li>attention-V-like tensors ({@code attn_v}, {@code attn_qkv}, {@code attn_kv_b}), counted in file order:
 *     Q8_0 when the model has exactly 8 experts, else Q6_K for the i-th of n where {@link #useMoreBits}(i, n).</li>
 * <li>{@code attn_k}: Q8_0 with exactly 8 experts. {@code attn_output}: Q5_K with exactly 8 experts in Q4_K_M.</li>
 * <li>Every tensor whose name contains {@code ffn_down} — dense {@code ffn_down}, the MoE experts'
 *     {@code ffn_down_exps} (all experts of a layer in one 3-D tensor, so all get the same type) and the shared
 *     experts' {@code ffn_down_shexp}: Q6_K in layers L (from the name's {@code blk.L.}) where
 *     {@link #useMoreBits}(L, n_layer), the base type in the others. llama.cpp reads the layer from the name
 *     for MoE models and counts ffn_down tensors for dense ones; here the name is always used, which is the same
 *     for dense models with one ffn_down per layer.</li>
 * <li>Everything else that is quantised (attn_q, ffn_gate*, ffn_up*, MLA's other projections, untied
 *     token_embd): the base type.</li>
 * </ul>
 * Then, as llama.cpp's {@code tensor_type_fallback} does, a type whose block does not divide the tensor's rows
 * falls back: Q4_K to Q5_0, Q5_K to Q5_1, Q6_K to Q8_0, and to F16 if even that does not divide them. Which
 * tensors stay F32 (1-D tensors, routers) is decided by {@link GgufQuantizer#staysF32}, as for single types.
 */
public final class QuantMix {
    public static final QuantMix Q4_K_M = new QuantMix("q4_k_m", DType.Q4_K, 15);
    public static final QuantMix Q5_K_M = new QuantMix("q5_k_m", DType.Q5_K, 17);
    private static final List<QuantMix> ALL = List.of(Q4_K_M, Q5_K_M);
    private static final Pattern LAYER = Pattern.compile("^blk\\.(\\d+)\\.");

    private final String name;
    private final DType base;
    private final int fileType;

    private QuantMix(String name, DType base, int fileType) {
        this.name = name;
        this.base = base;
        this.fileType = fileType;
    }

    /** The mix called {@code name} (any case: {@code q4_k_m}, {@code Q5_K_M}), or null. */
    public static QuantMix byName(String name) {
        for (QuantMix m : ALL) if (m.name.equalsIgnoreCase(name)) return m;
        return null;
    }

    /** The names of all mixes, lower case. */
    public static List<String> names() {
        return ALL.stream().map(m -> m.name).toList();
    }

    public String name() { return name; }
    /** The type of most weights. */
    public DType base() { return base; }
    /** llama.cpp's {@code llama_ftype} of a file in this mix ({@code general.file_type}). */
    public int fileType() { return fileType; }

    /** llama.cpp's use_more_bits: the first and last eighth of n, and every third in between. */
    static boolean useMoreBits(int i, int n) {
        return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2;
    }

    /**
     * The type this mix wants for each of the quantised tensors {@code names} (file order; their shapes outermost
     * first), before any fallback for the row length. {@code layers} is the model's block count and
     * {@code experts} its routed expert count (1 for a dense model). A name without {@code blk.N.} where a layer
     * is needed, or with N out of range, is an {@link IllegalArgumentException} naming the tensor.
     */
    public DType[] plan(List<String> names, List<long[]> shapes, int layers, int experts) {
        boolean tied = !names.contains("output.weight");
        int attnVTotal = 0;
        for (String n : names) if (isAttnVLike(n)) attnVTotal++;
        DType[] out = new DType[names.size()];
        int attnV = 0;
        for (int i = 0; i < out.length; i++) {
            String n = names.get(i);
            DType t = base;
            if (n.equals("output.weight") || (tied && n.equals("token_embd.weight"))) {
                long cols = shapes.get(i)[shapes.get(i).length - 1];
                t = cols % DType.Q6_K.blockSize == 0 ? DType.Q6_K : DType.Q8_0;
            } else if (n.equals("token_embd.weight")) {
                t = base;
            } else if (isAttnVLike(n)) {
                if (experts == 8) t = DType.Q8_0;
                else if (useMoreBits(attnV, attnVTotal)) t = DType.Q6_K;
                attnV++;
            } else if (n.contains("attn_k.weight")) {
                if (experts == 8) t = DType.Q8_0;
            } else if (n.contains("attn_output.weight")) {
                if (experts == 8 && this == Q4_K_M) t = DType.Q5_K;
            } else if (!n.contains("ffn_up") && !n.contains("ffn_gate") && n.contains("ffn_down")) {
                if (useMoreBits(layerOf(n, layers), layers)) t = DType.Q6_K;
            }
            out[i] = t;
        }
        return out;
    }

    /** Categories as llama.cpp's tensor_get_category tests them: attn_qkv, attn_kv_b and attn_v, in that order. */
    private static boolean isAttnVLike(String n) {
        return n.contains("attn_qkv.weight") || n.contains("attn_kv_b.weight") || n.contains("attn_v.weight");
    }

    private static int layerOf(String tensor, int layers) {
        Matcher m = LAYER.matcher(tensor);
        if (!m.find()) throw new IllegalArgumentException("tensor '" + tensor + "': no layer number (blk.N.) in its name");
        int l;
        try {
            l = Integer.parseInt(m.group(1));
        } catch (NumberFormatException e) {
            l = Integer.MAX_VALUE;
        }
        if (l >= layers) throw new IllegalArgumentException("tensor '" + tensor + "': layer " + m.group(1) + " of a model with " + layers + " layers");
        return l;
    }

    /**
     * llama.cpp's tensor_type_fallback for rows of {@code cols} values: {@code wanted} when its block divides
     * them, else Q5_0 for Q4_K, Q5_1 for Q5_K, Q8_0 for Q6_K, and F16 where the fallback does not fit either.
     */
    public static DType fallback(DType wanted, long cols) {
        if (cols % wanted.blockSize == 0) return wanted;
        DType t = switch (wanted) {
            case Q4_K -> DType.Q5_0;
            case Q5_K -> DType.Q5_1;
            case Q6_K -> DType.Q8_0;
            default -> DType.F16;
        };
        return cols % t.blockSize == 0 ? t : DType.F16;
    }

    @Override
    public String toString() {
        return name.toUpperCase(Locale.ROOT);
    }
}
