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
    Q8_0_R16(-2, 32, 34);

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
        return this == Q4_0_R16 || this == Q8_0_R16;
    }

    /** The type with this GGML id, or null when moe4j does not support it. */
    public static DType fromGgml(int id) {
        for (DType t : values()) if (t.ggmlId == id && id >= 0) return t;
        return null;
    }
}
