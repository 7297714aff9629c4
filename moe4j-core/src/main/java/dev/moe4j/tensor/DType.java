package dev.moe4j.tensor;

/**
 * Storage types of weights. Block types (GGML quantisations) pack {@link #blockSize} values into
 * {@link #blockBytes} bytes; plain types have a block of one value.
 */
public enum DType {
    F32(0, 1, 4),
    F16(1, 1, 2),
    Q4_0(2, 32, 18),   // f16 scale d, 16 bytes of 4-bit quants: x = d * (q - 8)
    Q8_0(8, 32, 34),   // f16 scale d, 32 signed bytes: x = d * q
    // K-quants: 256-value super-blocks. Q4_K: f16 d, f16 dmin, 12 bytes of 6-bit sub-block scales and mins
    // (8 sub-blocks of 32), 128 bytes of nibbles: x = d*sc*q - dmin*m. Q6_K: 128 bytes low nibbles, 64 bytes of
    // high 2-bit pairs, 16 int8 scales (sub-blocks of 16), f16 d: x = d*sc*(q - 32).
    Q4_K(12, 256, 144),
    Q6_K(14, 256, 210),
    // Further GGML types, laid out as in ggml-common.h (see each one's TypeKernels): legacy 32-value blocks with an
    // offset (Q4_1, Q5_1) or a fifth bit (Q5_0, Q5_1); 256-value K-quants; 4-bit indexes into a non-linear grid.
    Q4_1(3, 32, 20),
    Q5_0(6, 32, 22),
    Q5_1(7, 32, 24),
    Q2_K(10, 256, 84),
    Q3_K(11, 256, 110),
    Q5_K(13, 256, 176),
    IQ4_NL(20, 32, 18),
    IQ4_XS(23, 256, 136),
    BF16(30, 1, 2),
    // I-quants, the low-bit types of imatrix-quantised models (block_iq* in ggml-common.h): 256-value
    // super-blocks whose stored indices pick groups of 8 (IQ1, IQ2) or 4 (IQ3) values from fixed grids
    // (kernel.IqGrids), with sign bits and per-16/32 sub-block scales; the layouts are in each kernel class.
    IQ2_XXS(16, 256, 66),
    IQ2_XS(17, 256, 74),
    IQ3_XXS(18, 256, 98),
    IQ1_S(19, 256, 50),
    IQ3_S(21, 256, 110),
    IQ2_S(22, 256, 82),
    IQ1_M(29, 256, 56),
    // Integer and double types appear in safetensors files (token ids, reference outputs), not as weights.
    I32(26, 1, 4),
    I64(27, 1, 8),
    F64(28, 1, 8),
    // Not file types: Q4_0 and Q8_0 rows repacked in memory for faster kernels (see kernel.PackedQ4, PackedQ8).
    // Same bytes per value as the file type, but rows come in panels of 16 and a row is not contiguous.
    Q4_0_R16(-1, 32, 18),
    Q8_0_R16(-2, 32, 34),
    // Q4_K rows repacked (kernel.PackedQ4K): 4 bytes more per super-block, the 6-bit scales and mins unpacked.
    Q4_K_R16(-3, 256, 148),
    // Q6_K rows repacked (kernel.PackedQ6K), same bytes.
    Q6_K_R16(-4, 256, 210),

    // ---- Microscaled FP4 and float8 (gpt-oss; DeepSeek-V3 and Qwen3 "-FP8" checkpoints) ----
    // MXFP4 (ggml-common.h block_mxfp4): an E8M0 scale byte e, 16 bytes of e2m1 codes (value j in the low nibble
    // of byte j, value j + 16 in its high nibble): x = kvalue[code] · 2^(e − 128), kvalues the doubled e2m1 grid.
    MXFP4(39, 32, 17),
    // Not weight types: safetensors U8 (MXFP4 *_blocks / *_scales) and F8_E4M3 as stored, before repacking.
    U8(-5, 1, 1),
    F8_E4M3(-6, 1, 1),
    // Not a file type: float8 e4m3 weights repacked at load with their block scale (weight_scale_inv):
    // a float32 scale s, then 32 e4m3 bytes: x = s · e4m3(q).
    F8_E4M3_B32(-7, 32, 36);

    /** The GGML type id used in GGUF files. */
    public final int ggmlId;
    public final int blockSize;
    public final int blockBytes;

    DType(int ggmlId, int blockSize, int blockBytes) {
        this.ggmlId = ggmlId;
        this.blockSize = blockSize;
        this.blockBytes = blockBytes;
    }

    /** Bytes that {@code n} values take; {@code n} must be a multiple of the block size. */
    public long bytesFor(long n) {
        if (n % blockSize != 0) throw new IllegalArgumentException(this + ": " + n + " is not a multiple of " + blockSize);
        return n / blockSize * blockBytes;
    }

    public boolean isQuantized() {
        return blockSize > 1;
    }

    /** Whether rows are repacked in panels of 16 (an in-memory layout: rows are not contiguous). */
    public boolean isPacked() {
        return this == Q4_0_R16 || this == Q8_0_R16 || this == Q4_K_R16 || this == Q6_K_R16;
    }

    /** The type with this GGML id, or null when moe4j does not support it. */
    public static DType fromGgml(int id) {
        for (DType t : values()) if (t.ggmlId == id && id >= 0) return t;
        return null;
    }
}
