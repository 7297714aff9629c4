package dev.moe4j.model;

import dev.moe4j.kernel.Dequant;
import dev.moe4j.kernel.Float8Kernels;
import dev.moe4j.kernel.Matrix;
import dev.moe4j.kernel.PackedQ4;
import dev.moe4j.kernel.PackedQ4K;
import dev.moe4j.kernel.PackedQ6K;
import dev.moe4j.kernel.PackedQ8;
import dev.moe4j.kernel.Parallel;
import dev.moe4j.kernel.TypeKernels;
import dev.moe4j.tensor.DType;
import dev.moe4j.tensor.NativeMemory;
import dev.moe4j.tensor.Tensor;
import dev.moe4j.tensor.TensorStore;
import dev.moe4j.util.Moe4jException;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Looks tensors up by name and checks their shapes and types, failing with a one-line error naming file and
 * tensor. It remembers every name looked up, so that a tensor the model never asked for — a misspelt name,
 * which would otherwise leave an optional tensor silently unused — is reported ({@link #checkAllUsed}).
 *
 * <p>For inference ({@link #forInference}) the weights that matrix products read are also brought into the
 * layout the fastest kernel wants: Q4_0, Q8_0, Q4_K and Q6_K matrices are repacked into {@link DType#Q4_0_R16},
 * {@link DType#Q8_0_R16}, {@link DType#Q4_K_R16} and {@link DType#Q6_K_R16} in memory of their own (the same size; Q4_K 4 bytes more
 * per 256 values, 2.8 %; huge pages where the system gives them), and their pages of the mapped file are
 * released, so resident memory stays at about the file's size.
 */
public final class Weights implements AutoCloseable {
    private final TensorStore store;
    private final Arena packedArena;                                   // null: no repacking
    private final Quantization quantization;
    private Arena repackArena;                                         // float8 and MXFP4 rows repacked at load
    private final Map<String, Tensor> packed = new LinkedHashMap<>();
    private final Set<String> lookedUp = new HashSet<>();

    public Weights(TensorStore store) {
        this(store, false, Quantization.NONE);
    }

    private Weights(TensorStore store, boolean repack, Quantization quantization) {
        this.store = store;
        this.packedArena = repack && PackedQ4.VECTOR ? Arena.ofShared() : null;
        this.quantization = quantization;
    }

    /** Weights for running the model: matrices are repacked where a faster kernel needs another layout. */
    public static Weights forInference(TensorStore store) {
        return forInference(store, Quantization.NONE);
    }

    /** As {@link #forInference(TensorStore)}, for a checkpoint quantised as {@code quantization} says (float8 blocks). */
    public static Weights forInference(TensorStore store, Quantization quantization) {
        return new Weights(store, true, quantization);
    }

    public TensorStore store() {
        return store;
    }

    public boolean has(String name) {
        return find(name).isPresent();
    }

    public Optional<Tensor> find(String name) {
        lookedUp.add(name);
        return store.find(name);
    }

    /**
     * The tensor, which must exist, have exactly this shape (outermost dimension first) and hold weights
     * ({@link #checkWeightType}).
     */
    public Tensor require(String name, long... shape) {
        Tensor t = find(name).orElseThrow(() -> error("missing tensor '" + name + "'"));
        checkShape(t, shape);
        if (t.dtype() == DType.F8_E4M3) return float8(t);
        checkWeightType(t);
        return t;
    }

    /** A tensor of raw bytes (MXFP4 blocks or scales) of exactly this shape. */
    public Tensor requireBytes(String name, long... shape) {
        Tensor t = find(name).orElseThrow(() -> error("missing tensor '" + name + "'"));
        checkShape(t, shape);
        if (t.dtype() != DType.U8) throw error("tensor '" + name + "' is " + t.dtype() + "; expected U8 (packed MXFP4 bytes)");
        return t;
    }

    /** Native memory for a tensor repacked at load, freed with these weights. */
    public MemorySegment allocate(long bytes) {
        if (repackArena == null) repackArena = Arena.ofShared();
        return NativeMemory.allocate(bytes, repackArena);
    }

    /** As {@link #require}, for a tensor stored in either of two shapes. */
    public Tensor requireEither(String name, long[] shape, long[] otherShape) {
        Tensor t = find(name).orElseThrow(() -> error("missing tensor '" + name + "'"));
        if (!Arrays.equals(t.shape(), otherShape)) checkShape(t, shape);
        if (t.dtype() == DType.F8_E4M3) return float8(t);
        checkWeightType(t);
        return t;
    }

    public void checkShape(Tensor t, long... shape) {
        if (!Arrays.equals(t.shape(), shape)) {
            throw error("tensor '" + t.name() + "' has shape " + t.shapeString() + ", expected " + Arrays.toString(shape));
        }
    }

    /** Weights are floating-point or quantised: an integer or double tensor in a weight's place is a corrupt type. */
    public void checkWeightType(Tensor t) {
        if (!WEIGHT_TYPES.contains(t.dtype())) {
            throw error("tensor '" + t.name() + "' is " + t.dtype() + "; a weight must be one of " + FILE_WEIGHT_TYPES);
        }
    }

    /** Every file type that has kernels for weights (not the integer and double types, not in-memory layouts). */
    private static final Set<DType> WEIGHT_TYPES = weightTypes();

    private static Set<DType> weightTypes() {
        EnumSet<DType> s = EnumSet.noneOf(DType.class);
        for (DType t : DType.values()) if (t.ggmlId >= 0 && TypeKernels.of(t).isWeightType()) s.add(t);
        s.add(DType.F8_E4M3_B32);   // not a file type: what F8_E4M3 weights with block scales become at load (float8 below)
        return Collections.unmodifiableSet(s);
    }

    /** The weight types as files name them: F8_E4M3 (with its scales) is what becomes F8_E4M3_B32 in memory. */
    private static final String FILE_WEIGHT_TYPES = WEIGHT_TYPES.toString().replace("F8_E4M3_B32", "F8_E4M3");

    /**
     * A float8 matrix with its block scales ({@code NAME_scale_inv}, as DeepSeek-V3 and Qwen3 "-FP8" store them),
     * repacked once into {@link DType#F8_E4M3_B32} rows: the same bytes plus a float scale per 32 values.
     */
    private Tensor float8(Tensor t) {
        Tensor done = packed.get(t.name());
        if (done != null) return done;
        if (!quantization.isFp8())
            throw error("tensor '" + t.name() + "' is F8_E4M3 but config.json has no fp8 quantization_config with a weight_block_size");
        if (t.rank() != 2) throw error("tensor '" + t.name() + "' is F8_E4M3 of shape " + t.shapeString() + "; float8 weights must be 2-D matrices");
        int rows = (int) t.dim(0), cols = (int) t.dim(1), br = quantization.blockRows(), bc = quantization.blockCols();
        if (cols % 32 != 0)
            throw error("tensor '" + t.name() + "' has " + cols + " columns; float8 weights are read in blocks of 32 columns");
        String scaleName = t.name() + "_scale_inv";
        Tensor s = find(scaleName).orElseThrow(() -> error("missing tensor '" + scaleName + "' (the block scales of F8_E4M3 '" + t.name() + "')"));
        long[] want = {(rows + br - 1) / br, (cols + bc - 1) / bc};
        if (!Arrays.equals(s.shape(), want))
            throw error("tensor '" + scaleName + "' has shape " + s.shapeString() + ", expected " + Arrays.toString(want) + " for "
                    + t.shapeString() + " weights in blocks of [" + br + ", " + bc + "] (quantization_config.weight_block_size)");
        if (s.dtype() != DType.F32 && s.dtype() != DType.BF16 && s.dtype() != DType.F16)
            throw error("tensor '" + scaleName + "' is " + s.dtype() + "; block scales must be F32, BF16 or F16");
        float[] scales = toFloats(s);
        for (int i = 0; i < scales.length; i++)
            if (!Float.isFinite(scales[i])) throw error("tensor '" + scaleName + "' holds " + scales[i] + " at index " + i);
        MemorySegment dst = allocate(DType.F8_E4M3_B32.bytesFor((long) rows * cols));
        long nan = Float8Kernels.repack(t.data(), 0, rows, cols, scales, br, bc, dst, 0);
        if (nan >= 0) throw error("tensor '" + t.name() + "' holds NaN at row " + nan / cols + ", column " + nan % cols);
        if (t.data().isMapped()) t.data().unload();
        Tensor out = new Tensor(t.name(), DType.F8_E4M3_B32, t.shape(), dst);
        packed.put(t.name(), out);
        return out;
    }

    /**
     * F16 and BF16 take the same bytes, so a type id changed from one to the other passes every size check;
     * converters write one half-precision type per checkpoint, so finding both means one was changed.
     */
    public void checkOneHalfType() {
        Tensor f16 = null, bf16 = null;
        for (String name : store.names()) {
            Tensor t = store.find(name).orElseThrow();
            if (t.dtype() == DType.F16 && f16 == null) f16 = t;
            if (t.dtype() == DType.BF16 && bf16 == null) bf16 = t;
        }
        if (f16 != null && bf16 != null) {
            throw error("tensor '" + f16.name() + "' is F16 but tensor '" + bf16.name()
                    + "' is BF16: a checkpoint holds one of these types, so one tensor's type is wrong");
        }
    }

    /**
     * Fails on a tensor that no lookup asked for, unless {@code ignorable} says the format may carry it.
     * Call after the model is built: an unused tensor is a misspelt name (or a layer, expert or feature the
     * config does not declare), and the model would otherwise run without it.
     */
    public void checkAllUsed(Predicate<String> ignorable) {
        List<String> unused = new ArrayList<>();
        for (String name : store.names()) if (!lookedUp.contains(name) && !ignorable.test(name)) unused.add(name);
        if (!unused.isEmpty()) {
            throw error("tensor '" + unused.getFirst() + "'" + (unused.size() > 1 ? " (and " + (unused.size() - 1) + " more)" : "")
                    + " is not part of the model the config describes (a misspelt name, or layers, experts or features it does not declare)");
        }
    }

    /** A weight matrix for matrix products (repacked for inference where that is faster). */
    public Matrix matrix(String name, int rows, int cols) {
        return Matrix.of(forProducts(require(name, rows, cols)));
    }

    /** A matrix read row by row (an embedding table): kept in the file's layout. */
    public Matrix rowTable(String name, int rows, int cols) {
        return Matrix.of(require(name, rows, cols));
    }

    /** A 2-D or 3-D tensor of matrices for matrix products (expert slabs), repacked like {@link #matrix}. */
    public Tensor requireForProducts(String name, long... shape) {
        return forProducts(require(name, shape));
    }

    private Tensor forProducts(Tensor t) {
        if (packedArena == null || t.rank() < 2 || t.rank() > 3) return t;
        DType packedType = switch (t.dtype()) {
            case Q4_0, Q8_0 -> PackedQ4.packable(t.dim(-2), t.dim(-1)) ? (t.dtype() == DType.Q4_0 ? DType.Q4_0_R16 : DType.Q8_0_R16) : null;
            case Q4_K -> PackedQ4K.VECTOR && PackedQ4K.packable(t.dim(-2), t.dim(-1)) ? DType.Q4_K_R16 : null;
            case Q6_K -> PackedQ6K.VECTOR && PackedQ6K.packable(t.dim(-2), t.dim(-1)) ? DType.Q6_K_R16 : null;
            default -> null;
        };
        if (packedType == null) return t;
        return packed.computeIfAbsent(t.name(), n -> pack(t, packedType));
    }

    private Tensor pack(Tensor t, DType packedType) {
        MemorySegment dst = NativeMemory.allocate(packedType.bytesFor(t.elementCount()), packedArena);
        int cols = (int) t.dim(-1);
        long panels = t.elementCount() / cols / PackedQ4.PANEL;
        // Panels never straddle slabs (rows are a multiple of 16), so a 3-D tensor packs as one tall matrix.
        int chunk = 64, chunks = (int) ((panels + chunk - 1) / chunk);
        Parallel.run(chunks, c -> {
            for (long p = (long) c * chunk, end = Math.min(panels, p + chunk); p < end; p++) {
                switch (packedType) {
                    case Q4_0_R16 -> PackedQ4.packPanel(t.data(), dst, cols, p);
                    case Q8_0_R16 -> PackedQ8.packPanel(t.data(), dst, cols, p);
                    case Q4_K_R16 -> PackedQ4K.packPanel(t.data(), dst, cols, p);
                    default -> PackedQ6K.packPanel(t.data(), dst, cols, p);
                }
            }
        });
        if (t.data().isMapped()) t.data().unload();   // the file's copy is no longer read: give its pages back
        return new Tensor(t.name(), packedType, t.shape(), dst);
    }

    /** The store's tensors, with the repacked versions in place of their originals (what the kernels will read). */
    public List<Tensor> tensorsInUse() {
        List<Tensor> all = new ArrayList<>();
        for (String name : store.names()) all.add(packed.getOrDefault(name, store.find(name).orElseThrow()));
        return all;
    }

    public float[] vector(String name, int n) {
        return toFloats(require(name, n));
    }

    /** The vector if present (checking its length), else null. */
    public float[] optionalVector(String name, int n) {
        if (!has(name)) return null;
        return vector(name, n);
    }


    /** Every element of a tensor as floats (norm weights and biases: small vectors kept on the heap). */
    public float[] toFloats(Tensor t) {
        if (t.elementCount() > Integer.MAX_VALUE - 8)
            throw error("tensor '" + t.name() + "' " + t.shapeString() + " has too many elements to read onto the heap");
        int n = (int) t.elementCount();
        float[] out = new float[n];
        Dequant.dequantize(t.dtype(), t.data(), 0, out, 0, n);
        return out;
    }

    public Moe4jException error(String message) {
        return new Moe4jException(store.source() + ": " + message);
    }

    /** Frees the repacked copies (the store itself is closed by its owner). */
    @Override
    public void close() {
        if (packedArena != null) packedArena.close();
        if (repackArena != null) repackArena.close();
    }
}
