package dev.moe4j.tensor;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * A named weight tensor whose bytes live in a (usually memory-mapped) {@link MemorySegment}.
 *
 * <p>{@code shape} is row-major with the outermost dimension first, as in numpy and safetensors:
 * a linear layer's weight is {@code [out, in]}, a merged expert tensor {@code [experts, out, in]}.
 * (GGUF stores dimensions innermost first; its reader reverses them.)
 */
public record Tensor(String name, DType dtype, long[] shape, MemorySegment data) {

    public long elementCount() {
        long n = 1;
        for (long d : shape) n *= d;
        return n;
    }

    public int rank() {
        return shape.length;
    }

    /** Size of dimension {@code i}, counting from the outermost; negative counts from the innermost. */
    public long dim(int i) {
        return shape[i < 0 ? shape.length + i : i];
    }

    public String shapeString() {
        return Arrays.toString(shape);
    }

    @Override
    public String toString() {
        return name + " " + dtype + " " + shapeString();
    }
}
