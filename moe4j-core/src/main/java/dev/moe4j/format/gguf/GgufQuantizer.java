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
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.LongUnaryOperator;

/**
 * Writes a quantised GGUF from float weights (F32/F16/BF16), tensor by tensor while streaming, so a
 * multi-GiB model never sits in memory. Which tensors are quantised follows llama-quantize: 1-D tensors
 * (norms, biases) and the routers stay F32; a weight whose rows are not whole blocks of the requested
 * type falls back to Q8_0 (rows of 32) or else F16. With a {@link QuantMix} (Q4_K_M, Q5_K_M) each tensor's type
 * follows llama-quantize's rules for that mixture, fallbacks included.
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
    /** The llama-quantize mixture whose rules pick each tensor's type, or null for one type throughout. */
    private final QuantMix mix;
    private final Listener listener;
    private final GgufWriter w = new GgufWriter();
    /** Tensors in file order; their types are chosen at {@link #write}, when the mix can see all of them. */
    private final List<Pending> pending = new ArrayList<>();
    private long totalBytes;

    /** A tensor to write; {@code forced} is its type whatever the file's (null: chosen at {@link #write}). */
    private record Pending(String name, long[] shape, Rows rows, DType forced) {}

    public GgufQuantizer(DType type, Listener listener) {
        // F32/F16/BF16 targets make this a plain converter (e.g. a Hugging Face folder to an unquantised GGUF).
        if (!TypeKernels.of(type).canEncode()) {
            throw new IllegalArgumentException("cannot write " + type + " (" + String.join(", ",
                    TypeKernels.encodable().stream().map(t -> t.name().toLowerCase(Locale.ROOT)).toList()) + ")");
        }
        this.type = type;
        this.mix = null;
        this.listener = listener;
    }

    /** A quantiser that picks each tensor's type by the rules of llama-quantize's mixture {@code mix}. */
    public GgufQuantizer(QuantMix mix, Listener listener) {
        this.type = mix.base();
        this.mix = mix;
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
        pending.add(new Pending(name, shape, rows, null));
    }

    /** Adds a weight in {@code wanted} whatever the file's type (gpt-oss experts are MXFP4 in every quantised file). */
    public void add(String name, long[] shape, Rows rows, DType wanted) {
        pending.add(new Pending(name, shape, rows, wanted));
    }

    /** Chooses every tensor's type, sets the file type and quantization version, then writes atomically. */
    public void write(Path out) {
        List<Pending> quantised = pending.stream().filter(p -> !staysF32(p.name, p.shape)).toList();
        DType[] wanted = new DType[quantised.size()];
        if (mix == null) java.util.Arrays.fill(wanted, type);
        else wanted = mix.plan(quantised.stream().map(Pending::name).toList(), quantised.stream().map(Pending::shape).toList(),
                layerCount(), expertCount());
        int q = 0;
        for (Pending p : pending) {
            DType t = DType.F32;
            long cols = p.shape[p.shape.length - 1];
            if (!staysF32(p.name, p.shape)) {
                DType want = wanted[q++];
                if (p.forced != null) want = p.forced;
                // llama.cpp's MXFP4_MOE: only merged 3-D expert tensors are MXFP4, every other weight Q8_0
                else if (want == DType.MXFP4 && !(p.shape.length == 3 && p.shape[0] > 1)) want = DType.Q8_0;
                // llama-quantize's own fallbacks for a mix; for one type, Q8_0 (rows of 32) or else F16.
                t = mix != null ? QuantMix.fallback(want, cols) : cols % want.blockSize == 0 ? want : cols % 32 == 0 ? DType.Q8_0 : DType.F16;
                if (t != want) listener.fallback(p.name, want, t, cols);
            }
            long n = 1;
            for (long d : p.shape) n *= d;
            DType dtype = t;
            long count = n;
            totalBytes += t.bytesFor(n);
            w.addTensor(p.name, t, p.shape, o -> stream(dtype, count, cols, p.rows, o));
        }
        w.putUInt32("general.file_type", mix != null ? mix.fileType() : TypeKernels.of(type).ggufFileType());
        w.putUInt32("general.quantization_version", 2);
        listener.start(totalBytes);
        w.write(out);
    }

    /** Layers, as the highest {@code blk.N.} among the tensors plus one (0 without any). */
    private int layerCount() {
        int layers = 0;
        for (Pending p : pending) {
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("^blk\\.(\\d{1,9})\\.").matcher(p.name);
            if (m.find()) layers = Math.max(layers, Integer.parseInt(m.group(1)) + 1);
        }
        return layers;
    }

    /** Routed experts: the outer dimension of a merged {@code *_exps} tensor, 1 for a dense model. */
    private int expertCount() {
        int experts = 1;
        for (Pending p : pending) {
            if (p.name.contains("_exps.") && p.shape.length == 3) return (int) p.shape[0];
            // Older files: one tensor per expert, blk.N.ffn_down.E.weight.
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("\\.ffn_(?:gate|up|down)\\.(\\d{1,6})\\.weight$").matcher(p.name);
            if (m.find()) experts = Math.max(experts, Integer.parseInt(m.group(1)) + 1);
        }
        return experts;
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
        quantizeGguf(in, out, new GgufQuantizer(type, listener));
    }

    /** {@link #quantizeGguf(Path, Path, DType, Listener)} with each tensor's type chosen by llama-quantize's {@code mix}. */
    public static void quantizeGguf(Path in, Path out, QuantMix mix, Listener listener) {
        quantizeGguf(in, out, new GgufQuantizer(mix, listener));
    }

    private static void quantizeGguf(Path in, Path out, GgufQuantizer q) {
        try (GgufFile src = GgufFile.open(in)) {
            q.w.copyMetadata(src);
            for (Tensor t : src.tensors()) {
                q.add(t.name(), t.shape(), rowsOf(t, in));
            }
            q.write(out);
        }
    }
}
