package dev.moe4j.format.gguf;

import dev.moe4j.kernel.Dequant;
import dev.moe4j.kernel.Parallel;
import dev.moe4j.kernel.Quantize;
import dev.moe4j.kernel.TypeKernels;
import dev.moe4j.tensor.DType;
import dev.moe4j.tensor.Tensor;
import dev.moe4j.util.Moe4jException;

import java.io.IOException;
import java.io.OutputStream;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.function.LongUnaryOperator;

/**
 * Writes a quantised GGUF from float weights (F32/F16/BF16), tensor by tensor while streaming, so a
 * multi-GiB model never sits in memory. Which tensors are quantised follows llama-quantize: 1-D tensors
 * (norms, biases) and the routers stay F32; a weight whose rows are not whole blocks of the requested
 * type falls back to Q8_0 (rows of 32) or else F16.
 */
public final class GgufQuantizer {
    /** Rows of a tensor's innermost dimension as floats; must be safe to call from several threads. */
    @FunctionalInterface
    public interface Rows {
        void read(long firstRow, int count, float[] dst, int dstOff);
    }

    /** What the quantiser tells its caller: fallbacks while planning, then bytes while writing. */
    public interface Listener {
        default void fallback(String tensor, DType wanted, DType used, long rowLength) {}
        default void start(long totalBytes) {}
        default void advance(long bytes) {}
    }

    private static final int CHUNK = 1 << 16; // values quantised per task

    private final DType type;
    private final Listener listener;
    private final GgufWriter w = new GgufWriter();
    private long totalBytes;

    public GgufQuantizer(DType type, Listener listener) {
        // F32/F16/BF16 targets make this a plain converter (e.g. a Hugging Face folder to an unquantised GGUF).
        if (!TypeKernels.of(type).canEncode()) {
            throw new IllegalArgumentException("cannot write " + type + " (" + String.join(", ",
                    TypeKernels.encodable().stream().map(t -> t.name().toLowerCase(Locale.ROOT)).toList()) + ")");
        }
        this.type = type;
        this.listener = listener;
    }

    public GgufWriter writer() {
        return w;
    }

    /** Whether llama-quantize leaves this tensor in F32: 1-D tensors, biases (gpt-oss's are 2-D) and the expert routers. */
    public static boolean staysF32(String name, long[] shape) {
        return shape.length == 1 || name.endsWith(".bias") || name.endsWith("ffn_gate_inp.weight") || name.endsWith("ffn_gate_inp_shexp.weight");
    }

    /**
     * Adds a tensor, quantised unless {@link #staysF32}; {@code shape} is outermost first. For MXFP4 files (llama.cpp's
     * {@code MXFP4_MOE}) only merged 3-D expert tensors are MXFP4 and every other weight is Q8_0.
     */
    public void add(String name, long[] shape, Rows rows) {
        DType wanted = type == DType.MXFP4 && !(shape.length == 3 && shape[0] > 1) ? DType.Q8_0 : type;
        add(name, shape, rows, wanted);
    }

    /** Adds a weight in {@code wanted} whatever the file's type (gpt-oss experts are MXFP4 in every quantised file). */
    public void add(String name, long[] shape, Rows rows, DType wanted) {
        DType t = DType.F32;
        long cols = shape[shape.length - 1];
        if (!staysF32(name, shape)) {
            t = cols % wanted.blockSize == 0 ? wanted : cols % 32 == 0 ? DType.Q8_0 : DType.F16;
            if (t != wanted) listener.fallback(name, wanted, t, cols);
        }
        long n = 1;
        for (long d : shape) n *= d;
        DType dtype = t;
        long count = n;
        totalBytes += t.bytesFor(n);
        w.addTensor(name, t, shape, out -> stream(dtype, count, cols, rows, out));
    }

    /** Sets the file type and quantization version, then writes atomically. */
    public void write(Path out) {
        w.putUInt32("general.file_type", TypeKernels.of(type).ggufFileType());
        w.putUInt32("general.quantization_version", 2);
        listener.start(totalBytes);
        w.write(out);
    }

    /** Reads and encodes a few chunks of whole rows per thread at a time, then writes them in order. */
    private void stream(DType t, long n, long cols, Rows rows, OutputStream out) throws IOException {
        long totalRows = n / cols;
        int rowsPerChunk = (int) Math.max(1, CHUNK / cols);
        long chunks = (totalRows + rowsPerChunk - 1) / rowsPerChunk;
        int batch = (int) Math.min(chunks, Parallel.threads() * 2L);
        int values = Math.toIntExact(rowsPerChunk * cols);
        float[][] vals = new float[batch][values];
        byte[][] bufs = new byte[batch][Math.toIntExact(t.bytesFor(values))];
        for (long c0 = 0; c0 < chunks; c0 += batch) {
            long first = c0;
            int k = (int) Math.min(batch, chunks - c0);
            Parallel.run(k, i -> {
                long row = (first + i) * rowsPerChunk;
                int count = (int) Math.min(rowsPerChunk, totalRows - row);
                rows.read(row, count, vals[i], 0);
                Quantize.encode(t, vals[i], 0, (int) (count * cols), MemorySegment.ofArray(bufs[i]), 0);
            });
            for (int i = 0; i < k; i++) {
                long row = (first + i) * rowsPerChunk;
                int len = (int) t.bytesFor(Math.min(rowsPerChunk, totalRows - row) * cols);
                out.write(bufs[i], 0, len);
                listener.advance(len);
            }
        }
    }

    // ---- row sources ----

    /** The rows of a float tensor; quantised inputs are refused, since requantising compounds the error. */
    public boolean quantizes() {
        return type.isQuantized();
    }

    public static Rows rowsOf(Tensor t, Path source) {
        if (t.dtype() != DType.F32 && t.dtype() != DType.F16 && t.dtype() != DType.BF16) {
            throw new Moe4jException(source + ": tensor '" + t.name() + "' is " + t.dtype()
                    + "; quantize reads F32, F16 or BF16 weights");
        }
        long cols = t.dim(-1), rowBytes = t.dtype().bytesFor(cols);
        return (row, count, dst, off) -> Dequant.dequantize(t.dtype(), t.data(), row * rowBytes, dst, off, Math.toIntExact(count * cols));
    }

    /** Row {@code r} of the result is row {@code map(r)} of {@code base}. */
    public static Rows mapped(Rows base, long cols, LongUnaryOperator map) {
        return (row, count, dst, off) -> {
            for (int i = 0; i < count; i++) base.read(map.applyAsLong(row + i), 1, dst, Math.toIntExact(off + i * cols));
        };
    }

    /** Parts of {@code rowsEach} rows each, one after another (per-expert matrices → one 3-D tensor). */
    public static Rows concat(List<Rows> parts, long rowsEach, long cols) {
        return (row, count, dst, off) -> {
            for (int i = 0; i < count; i++) {
                long r = row + i;
                parts.get((int) (r / rowsEach)).read(r % rowsEach, 1, dst, Math.toIntExact(off + i * cols));
            }
        };
    }

    // ---- GGUF → GGUF ----

    /** Requantises an F32/F16/BF16 GGUF, keeping every metadata key with its exact type and the tensor order. */
    public static void quantizeGguf(Path in, Path out, DType type, Listener listener) {
        try (GgufFile src = GgufFile.open(in)) {
            GgufQuantizer q = new GgufQuantizer(type, listener);
            q.w.copyMetadata(src);
            for (Tensor t : src.tensors()) {
                q.add(t.name(), t.shape(), rowsOf(t, in));
            }
            q.write(out);
        }
    }
}
