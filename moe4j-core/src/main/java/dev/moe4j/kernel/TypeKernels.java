package dev.moe4j.kernel;

import dev.moe4j.tensor.DType;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * Everything moe4j computes for one storage type, in one class per type: the scalar reference element
 * reader ({@link #get}, what the vector kernels are tested against), row dequantisation, the row·vector dot
 * product that matrix products are built on, the encoder from floats (a quantiser for block types) and the
 * llama.cpp file type of a file written in it. {@link #of} finds a type's instance.
 *
 * <p>A new storage type is a {@link DType} constant, a subclass here and one line in {@code REGISTRY}.
 * Its vector kernels go in that subclass, each written out in full inside one method: C2 compiles Vector API
 * code to SIMD only when the whole computation is inlined, so no helper calls inside the hot loops.
 *
 * <p>Values are addressed as a byte offset into a segment and a count {@code n}; for block types the offset
 * is a block boundary and {@code n} a whole number of blocks, else {@link IllegalArgumentException}.
 */
public abstract class TypeKernels {
    /** One instance per storage type; a type missing here fails class initialisation, so at the first use. */
    private static final TypeKernels[] REGISTRY = register(
            new F32Kernels(),
            new HalfKernels(DType.F16),
            new HalfKernels(DType.BF16),
            new Q8_0Kernels(),
            new Q4_0Kernels(),
            new Q4_KKernels(),
            new Q6_KKernels(),
            new Q4_1Kernels(), new Q5_0Kernels(), new Q5_1Kernels(), new Q2_KKernels(), new Q3_KKernels(), new Q5_KKernels(),
            new IQ4_NLKernels(), new IQ4_XSKernels(),
            // i-quants (low-bit types of imatrix-quantised models), over the grids of IqGrids
            new IQ1_SKernels(),
            new IQ1_MKernels(),
            new IQ2_XXSKernels(),
            new IQ2_XSKernels(),
            new IQ2_SKernels(),
            new IQ3_XXSKernels(),
            new IQ3_SKernels(),
            new IntegerAndDoubleKernels(DType.I32),
            new IntegerAndDoubleKernels(DType.I64),
            new IntegerAndDoubleKernels(DType.F64),
            new PackedKernels(DType.Q4_0_R16),
            new PackedKernels(DType.Q8_0_R16),
            new PackedKernels(DType.Q4_K_R16),
            new PackedKernels(DType.Q6_K_R16),
            // Microscaled FP4 and float8
            new Mxfp4Kernels(),
            new IntegerAndDoubleKernels(DType.U8),
            new Float8Kernels(DType.F8_E4M3),
            new Float8Kernels(DType.F8_E4M3_B32));

    private static TypeKernels[] register(TypeKernels... all) {
        TypeKernels[] byOrdinal = new TypeKernels[DType.values().length];
        for (TypeKernels k : all) {
            if (byOrdinal[k.type.ordinal()] != null) throw new IllegalStateException(k.type + " registered twice");
            byOrdinal[k.type.ordinal()] = k;
        }
        for (DType t : DType.values())
            if (byOrdinal[t.ordinal()] == null) throw new IllegalStateException(t + " has no TypeKernels");
        return byOrdinal;
    }

    /** The kernels of storage type {@code t}. */
    public static TypeKernels of(DType t) {
        return REGISTRY[t.ordinal()];
    }

    /** The types floats can be encoded as (what {@code quantize} can write), in {@link DType} order. */
    public static List<DType> encodable() {
        List<DType> out = new ArrayList<>();
        for (TypeKernels k : REGISTRY) if (k.canEncode()) out.add(k.type);
        return out;
    }

    protected final DType type;

    protected TypeKernels(DType type) {
        this.type = type;
    }

    public final DType type() {
        return type;
    }

    /**
     * Element {@code i} of the values that start at {@code byteOffset}, read the plain, obviously correct way:
     * the reference every vector kernel must agree with. {@link IllegalArgumentException} for types whose
     * values are not laid out one row after another (the repacked types).
     */
    public abstract float get(MemorySegment seg, long byteOffset, long i);

    /** Converts {@code n} values starting at {@code byteOffset} into {@code dst[dstOff ..]}. */
    public final void dequantize(MemorySegment seg, long byteOffset, float[] dst, int dstOff, int n) {
        checkBlocks(n);
        dequantizeBlocks(seg, byteOffset, dst, dstOff, n);
    }

    /** Σ value[i] · x[xOff + i] over the {@code n} values starting at {@code byteOffset}. */
    public final float dot(MemorySegment seg, long byteOffset, float[] x, int xOff, int n) {
        checkBlocks(n);
        return dotBlocks(seg, byteOffset, x, xOff, n);
    }

    /**
     * Stores {@code src[off .. off + n)} in this type at {@code dstOff} ({@link DType#bytesFor} of {@code n} bytes).
     * {@link IllegalArgumentException} for types floats cannot be encoded as ({@link #canEncode} false).
     */
    public final void encode(float[] src, int off, int n, MemorySegment dst, long dstOff) {
        if (!canEncode()) throw new IllegalArgumentException("cannot encode floats as " + type);
        checkBlocks(n);
        encodeBlocks(src, off, n, dst, dstOff);
    }

    /** {@link #dequantize} computed element by element with {@link #get}: the reference for tests. */
    public final void referenceDequantize(MemorySegment seg, long byteOffset, float[] dst, int dstOff, int n) {
        checkBlocks(n);
        for (int i = 0; i < n; i++) dst[dstOff + i] = get(seg, byteOffset, i);
    }

    /** {@link #dot} computed element by element with {@link #get}, summed in double: the reference for tests. */
    public final float referenceDot(MemorySegment seg, long byteOffset, float[] x, int xOff, int n) {
        checkBlocks(n);
        double s = 0;
        for (int i = 0; i < n; i++) s += (double) get(seg, byteOffset, i) * x[xOff + i];
        return (float) s;
    }

    /**
     * Row {@code r} of a {@code [rows, cols]} matrix of this type starting at {@code byteOffset}, as floats
     * (an embedding lookup). Rows follow each other unless a type lays them out otherwise.
     */
    public void row(MemorySegment seg, long byteOffset, int cols, int r, float[] dst, int dstOff) {
        dequantize(seg, byteOffset + type.bytesFor(cols) * r, dst, dstOff, cols);
    }

    /** Whether {@link #encode} can store floats in this type. */
    public boolean canEncode() {
        return false;
    }

    /**
     * llama.cpp's {@code general.file_type} ({@code llama_ftype}) of a file whose weights are mostly of this
     * type; {@link IllegalArgumentException} for types llama.cpp has no file type for.
     */
    public int ggufFileType() {
        throw new IllegalArgumentException("no llama.cpp file type for " + type);
    }

    /** Whether model weights can be of this type (the integer and double types hold ids and reference data). */
    public boolean isWeightType() {
        return true;
    }

    /** Values of {@code n} ({@link #checkBlocks checked}) whole blocks into floats; the reference loop unless overridden. */
    protected void dequantizeBlocks(MemorySegment seg, long byteOffset, float[] dst, int dstOff, int n) {
        referenceDequantize(seg, byteOffset, dst, dstOff, n);
    }

    /** The dot product over {@code n} whole blocks; the reference loop unless overridden. */
    protected float dotBlocks(MemorySegment seg, long byteOffset, float[] x, int xOff, int n) {
        return referenceDot(seg, byteOffset, x, xOff, n);
    }

    /** Encodes {@code n} floats as whole blocks; types that {@link #canEncode} override this. */
    protected void encodeBlocks(float[] src, int off, int n, MemorySegment dst, long dstOff) {
        throw new IllegalArgumentException("cannot encode floats as " + type);
    }

    /** {@link IllegalArgumentException} unless {@code n} values are whole blocks of this type. */
    protected final void checkBlocks(long n) {
        if (n < 0 || n % type.blockSize != 0)
            throw new IllegalArgumentException(type + ": " + n + " values is not a multiple of the block size " + type.blockSize);
    }

    @Override
    public String toString() {
        return type + " kernels";
    }
}
