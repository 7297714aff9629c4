package dev.moe4j.model;

import dev.moe4j.kernel.Dequant;
import dev.moe4j.kernel.Matrix;
import dev.moe4j.kernel.PackedQ4;
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
 * layout the fastest kernel wants: Q4_0 and Q8_0 matrices are repacked into {@link DType#Q4_0_R16} and
 * {@link DType#Q8_0_R16} in memory of their own (same size, huge pages where the system gives them), and their
 * pages of the mapped file are released, so resident memory stays at the file's size.
 */
public final class Weights implements AutoCloseable {
    private final TensorStore store;
    private final Arena packedArena;                                   // null: no repacking
    private final Map<String, Tensor> packed = new LinkedHashMap<>();
    private final Set<String> lookedUp = new HashSet<>();

    public Weights(TensorStore store) {
        this(store, false);
    }

    private Weights(TensorStore store, boolean repack) {
        this.store = store;
        this.packedArena = repack && PackedQ4.VECTOR ? Arena.ofShared() : null;
    }

    /** Weights for running the model: matrices are repacked where a faster kernel needs another layout. */
    public static Weights forInference(TensorStore store) {
        return new Weights(store, true);
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
        checkWeightType(t);
        return t;
    }

    /** As {@link #require}, for a tensor stored in either of two shapes. */
    public Tensor requireEither(String name, long[] shape, long[] otherShape) {
        Tensor t = find(name).orElseThrow(() -> error("missing tensor '" + name + "'"));
        if (!Arrays.equals(t.shape(), otherShape)) checkShape(t, shape);
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
            throw error("tensor '" + t.name() + "' is " + t.dtype() + "; a weight must be one of " + WEIGHT_TYPES);
        }
    }

    /** The file types kernels can multiply with (so a new type with its TypeKernels is a weight type here too). */
    private static final Set<DType> WEIGHT_TYPES = weightTypes();

    private static Set<DType> weightTypes() {
        Set<DType> types = EnumSet.noneOf(DType.class);
        for (DType t : DType.values()) if (TypeKernels.of(t).isWeightType() && !t.isPacked()) types.add(t);
        return Collections.unmodifiableSet(types);
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
        if (packedArena == null || (t.dtype() != DType.Q4_0 && t.dtype() != DType.Q8_0) || t.rank() < 2 || t.rank() > 3
                || !PackedQ4.packable(t.dim(-2), t.dim(-1))) return t;
        return packed.computeIfAbsent(t.name(), n -> pack(t));
    }

    private Tensor pack(Tensor t) {
        MemorySegment dst = NativeMemory.allocate(t.data().byteSize(), packedArena);
        int cols = (int) t.dim(-1);
        boolean q4 = t.dtype() == DType.Q4_0;
        long panels = t.elementCount() / cols / PackedQ4.PANEL;
        // Panels never straddle slabs (rows are a multiple of 16), so a 3-D tensor packs as one tall matrix.
        int chunk = 64, chunks = (int) ((panels + chunk - 1) / chunk);
        Parallel.run(chunks, c -> {
            for (long p = (long) c * chunk, end = Math.min(panels, p + chunk); p < end; p++) {
                if (q4) PackedQ4.packPanel(t.data(), dst, cols, p);
                else PackedQ8.packPanel(t.data(), dst, cols, p);
            }
        });
        if (t.data().isMapped()) t.data().unload();   // the file's copy is no longer read: give its pages back
        return new Tensor(t.name(), q4 ? DType.Q4_0_R16 : DType.Q8_0_R16, t.shape(), dst);
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
    }
}
