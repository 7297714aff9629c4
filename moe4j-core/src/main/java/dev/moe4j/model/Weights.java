package dev.moe4j.model;

import dev.moe4j.kernel.Dequant;
import dev.moe4j.tensor.Matrix;
import dev.moe4j.tensor.Tensor;
import dev.moe4j.tensor.TensorStore;
import dev.moe4j.util.Moe4jException;

import java.util.Arrays;
import java.util.Optional;

/** Looks tensors up by name and checks their shapes, failing with a one-line error naming file and tensor. */
public final class Weights {
    private final TensorStore store;

    public Weights(TensorStore store) {
        this.store = store;
    }

    public TensorStore store() {
        return store;
    }

    public boolean has(String name) {
        return store.find(name).isPresent();
    }

    public Optional<Tensor> find(String name) {
        return store.find(name);
    }

    /** The tensor, which must exist and have exactly this shape (outermost dimension first). */
    public Tensor require(String name, long... shape) {
        Tensor t = store.find(name).orElseThrow(() ->
                new Moe4jException(store.source() + ": missing tensor '" + name + "'"));
        checkShape(t, shape);
        return t;
    }

    public void checkShape(Tensor t, long... shape) {
        if (!Arrays.equals(t.shape(), shape)) {
            throw new Moe4jException(store.source() + ": tensor '" + t.name() + "' has shape " + t.shapeString()
                    + ", expected " + Arrays.toString(shape));
        }
    }

    public Matrix matrix(String name, int rows, int cols) {
        return Matrix.of(require(name, rows, cols));
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
        int n = Math.toIntExact(t.elementCount());
        float[] out = new float[n];
        Dequant.dequantize(t.dtype(), t.data(), 0, out, 0, n);
        return out;
    }

    public Moe4jException error(String message) {
        return new Moe4jException(store.source() + ": " + message);
    }
}
