package dev.moe4j.tensor;

/**
 * The name of every GGML tensor type id a GGUF file may carry, supported by moe4j or not, so that an error
 * names the type ({@code IQ4_KS (id 144)}) instead of giving a bare number. Use {@link #describe} wherever a
 * type id is reported.
 *
 * <p>Sources: {@code enum ggml_type} in llama.cpp's {@code ggml/include/ggml.h} (ids 0–42, August 2026; ids
 * 4, 5, 31–33 and 36–38 are types llama.cpp has removed, named here as they were) and, for the ids ik_llama.cpp
 * added, {@code enum ggml_type} in ik_llama.cpp's {@code ggml/include/ggml.h} (ids 97–399, August 2026). Where
 * the two forks gave one id different meanings (36: llama.cpp's removed IQ4_NL_4_4, ik_llama.cpp's I2_S; 41:
 * Q1_0 against Q1_0_G128) both names are given.
 */
public final class GgmlTypeNames {
    private GgmlTypeNames() {}

    private static final String[] MAINLINE = {
            "F32", "F16", "Q4_0", "Q4_1", "Q4_2", "Q4_3", "Q5_0", "Q5_1", "Q8_0", "Q8_1",               // 0-9
            "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "Q8_K", "IQ2_XXS", "IQ2_XS", "IQ3_XXS", "IQ1_S",      // 10-19
            "IQ4_NL", "IQ3_S", "IQ2_S", "IQ4_XS", "I8", "I16", "I32", "I64", "F64", "IQ1_M",              // 20-29
            "BF16", "Q4_0_4_4", "Q4_0_4_8", "Q4_0_8_8", "TQ1_0", "TQ2_0",                                 // 30-35
            "IQ4_NL_4_4 or ik_llama.cpp's I2_S", "IQ4_NL_4_8", "IQ4_NL_8_8", "MXFP4", "NVFP4",            // 36-40
            "Q1_0 or ik_llama.cpp's Q1_0_G128", "Q2_0",                                                   // 41-42
    };

    /** ik_llama.cpp's own ids, in pairs of id and name. */
    private static final Object[] IK_LLAMA = {
            97, "Q8_0_X4", 98, "Q8_1_X4", 99, "Q8_2_X4",
            133, "Q6_0", 134, "IQ1_BN", 135, "IQ2_BN", 136, "Q8_K64", 137, "IQ2_K", 138, "IQ3_K", 139, "IQ4_K",
            140, "IQ5_K", 141, "IQ6_K", 142, "IQ2_TN", 143, "IQ1_TN", 144, "IQ4_KS", 145, "IQ2_KS", 146, "IQ4_KSS",
            147, "Q8_K16", 148, "Q8_K32", 149, "Q8_KR8", 150, "Q8_K128", 151, "Q8_KV", 152, "IQ5_KS", 153, "IQ2_KT",
            154, "IQ3_KT", 155, "IQ4_KT", 156, "IQ3_KS", 157, "IQ2_KL", 158, "IQ1_KT",
            202, "Q4_0_R8", 206, "Q5_0_R4", 208, "Q8_0_R8", 210, "Q2_K_R4", 211, "Q3_K_R4", 212, "Q4_K_R4",
            213, "Q5_K_R4", 214, "Q6_K_R4", 216, "IQ2_XXS_R4", 217, "IQ2_XS_R4", 218, "IQ3_XXS_R4", 219, "IQ1_S_R4",
            220, "IQ4_NL_R4", 221, "IQ3_S_R4", 222, "IQ2_S_R4", 223, "IQ4_XS_R8", 229, "IQ1_M_R4", 230, "BF16_R16",
            233, "Q6_0_R4", 335, "IQ2_BN_R4", 337, "IQ2_K_R4", 338, "IQ3_K_R4", 339, "IQ4_K_R4", 340, "IQ5_K_R4",
            344, "IQ4_KS_R4", 352, "IQ5_KS_R4", 353, "MXFP4_R8", 397, "Q8_K_R16", 398, "Q8_KV_R8", 399, "Q8_K_R8",
    };

    /** The type's name ({@code "Q5_K"}, {@code "IQ4_KS"}), or null for an id neither fork defines. */
    public static String name(long id) {
        if (id >= 0 && id < MAINLINE.length) return MAINLINE[(int) id];
        for (int i = 0; i < IK_LLAMA.length; i += 2) if ((Integer) IK_LLAMA[i] == id) return (String) IK_LLAMA[i + 1];
        return null;
    }

    /**
     * How an error names type {@code id} (read as unsigned 32 bits): {@code "IQ4_KS (id 144)"}, or
     * {@code "unknown type (id 4000)"} for an id no GGML fork defines.
     */
    public static String describe(long id) {
        String name = name(id);
        return (name == null ? "unknown type" : name) + " (id " + id + ")";
    }
}
