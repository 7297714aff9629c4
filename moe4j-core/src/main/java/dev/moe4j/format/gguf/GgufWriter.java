package dev.moe4j.format.gguf;

import dev.moe4j.kernel.Quantize;
import dev.moe4j.tensor.DType;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds a GGUF v3 file. Metadata and tensor descriptions are collected first; {@link #write} then
 * streams the header and each tensor's bytes in order, so tensor data is never held twice: segments
 * are copied in chunks, float arrays converted chunk by chunk, and {@link TensorData} producers may
 * generate bytes on demand (quantising a large model one tensor at a time).
 *
 * <p>Shapes are given outermost-first like {@link dev.moe4j.tensor.Tensor}; they are reversed on disk.
 */
public final class GgufWriter {
    /** Writes exactly the tensor's byte size to {@code out} when the file is written. */
    @FunctionalInterface
    public interface TensorData {
        void writeTo(OutputStream out) throws IOException;
    }

    private record Value(GgufType type, Object value) {}

    private record Entry(String name, DType dtype, long[] shape, long bytes, TensorData data) {}

    private final Map<String, Value> metadata = new LinkedHashMap<>();
    private final Map<String, Entry> tensors = new LinkedHashMap<>();

    // ---- metadata ----

    /** Stores a value with the GGUF type inferred from its Java type (Integer → INT32, Long → INT64, ...). */
    public GgufWriter put(String key, Object value) {
        return put(key, infer(value), value);
    }

    /** Stores a value with an explicit GGUF type; numbers are range-checked for that type. */
    public GgufWriter put(String key, GgufType type, Object value) {
        if (type == GgufType.ARRAY) {
            if (!(value instanceof List<?> l)) throw new IllegalArgumentException(key + ": ARRAY needs a List");
            if (l.isEmpty()) throw new IllegalArgumentException(key + ": element type of an empty list is unknown; use putArray");
            return putArray(key, infer(l.getFirst()), l);
        }
        metadata.put(key, new Value(type, check(key, type, value)));
        return this;
    }

    public GgufWriter putArray(String key, GgufType elementType, List<?> values) {
        metadata.put(key, new Value(GgufType.ARRAY, typedArray(key, elementType, values)));
        return this;
    }

    public GgufWriter putString(String key, String v) { return put(key, GgufType.STRING, v); }
    public GgufWriter putUInt32(String key, long v) { return put(key, GgufType.UINT32, v); }
    public GgufWriter putInt32(String key, int v) { return put(key, GgufType.INT32, v); }
    public GgufWriter putUInt64(String key, long v) { return put(key, GgufType.UINT64, v); }
    public GgufWriter putFloat32(String key, float v) { return put(key, GgufType.FLOAT32, v); }
    public GgufWriter putFloat64(String key, double v) { return put(key, GgufType.FLOAT64, v); }
    public GgufWriter putBool(String key, boolean v) { return put(key, GgufType.BOOL, v); }

    /** Sets {@code general.alignment} (a power of two), which the data section and tensors are padded to. */
    public GgufWriter alignment(int alignment) {
        if (alignment <= 0 || Integer.bitCount(alignment) != 1) throw new IllegalArgumentException("alignment " + alignment);
        return putUInt32("general.alignment", alignment);
    }

    /** Copies every metadata value of {@code src} with its original GGUF types. */
    public GgufWriter copyMetadata(GgufFile src) {
        for (var e : src.metadata().entrySet()) {
            GgufType t = src.typeOf(e.getKey()).orElseThrow();
            if (t == GgufType.ARRAY) putArray(e.getKey(), src.elementTypeOf(e.getKey()).orElseThrow(), (List<?>) e.getValue());
            else put(e.getKey(), t, e.getValue());
        }
        return this;
    }

    private record TypedArray(GgufType elementType, List<Object> values) {}

    private static TypedArray typedArray(String key, GgufType et, List<?> values) {
        List<Object> out = new ArrayList<>(values.size());
        for (Object v : values) {
            if (et == GgufType.ARRAY) {
                if (v instanceof TypedArray ta) out.add(ta);
                else if (v instanceof List<?> l && !l.isEmpty()) out.add(typedArray(key, infer(l.getFirst()), l));
                else throw new IllegalArgumentException(key + ": nested arrays must be non-empty Lists");
            } else {
                out.add(check(key, et, v));
            }
        }
        return new TypedArray(et, out);
    }

    private static GgufType infer(Object v) {
        return switch (v) {
            case String s -> GgufType.STRING;
            case Long l -> GgufType.INT64;
            case Integer i -> GgufType.INT32;
            case Short s -> GgufType.INT16;
            case Byte b -> GgufType.INT8;
            case Float f -> GgufType.FLOAT32;
            case Double d -> GgufType.FLOAT64;
            case Boolean b -> GgufType.BOOL;
            case List<?> l -> GgufType.ARRAY;
            case null -> throw new IllegalArgumentException("null metadata value");
            default -> throw new IllegalArgumentException("no GGUF type for " + v.getClass().getName());
        };
    }

    /** The value normalised for writing: integers as Long, floats as Float/Double; range-checked. */
    private static Object check(String key, GgufType t, Object v) {
        if (t.isInteger()) {
            if (!(v instanceof Long || v instanceof Integer || v instanceof Short || v instanceof Byte))
                throw new IllegalArgumentException(key + ": " + t + " needs an integer, got " + v);
            long x = ((Number) v).longValue();
            long lo = switch (t) { case INT8 -> -128; case INT16 -> -32768; case INT32 -> Integer.MIN_VALUE;
                case UINT8, UINT16, UINT32 -> 0; default -> Long.MIN_VALUE; };
            long hi = switch (t) { case INT8 -> 127; case UINT8 -> 255; case INT16 -> 32767; case UINT16 -> 65535;
                case INT32 -> Integer.MAX_VALUE; case UINT32 -> 0xFFFF_FFFFL; default -> Long.MAX_VALUE; };
            if (x < lo || x > hi) throw new IllegalArgumentException(key + ": " + x + " is out of range for " + t);
            return x;
        }
        return switch (t) {
            case FLOAT32 -> { if (v instanceof Number n) yield n.floatValue(); throw bad(key, t, v); }
            case FLOAT64 -> { if (v instanceof Number n) yield n.doubleValue(); throw bad(key, t, v); }
            case BOOL -> { if (v instanceof Boolean) yield v; throw bad(key, t, v); }
            case STRING -> { if (v instanceof String) yield v; throw bad(key, t, v); }
            default -> throw bad(key, t, v);
        };
    }

    private static IllegalArgumentException bad(String key, GgufType t, Object v) {
        return new IllegalArgumentException(key + ": cannot store " + v + " as " + t);
    }

    // ---- tensors ----

    /** A tensor whose bytes (already in {@code dtype}) are produced when the file is written. */
    public GgufWriter addTensor(String name, DType dtype, long[] shape, TensorData data) {
        if (tensors.containsKey(name)) throw new IllegalArgumentException("duplicate tensor '" + name + "'");
        if (shape.length < 1 || shape.length > 4) throw new IllegalArgumentException(name + ": rank " + shape.length);
        long n = 1;
        for (long d : shape) {
            if (d <= 0) throw new IllegalArgumentException(name + ": dimension " + d);
            n = Math.multiplyExact(n, d);
        }
        if (dtype.ggmlId < 0) throw new IllegalArgumentException(name + ": " + dtype + " is an in-memory layout, not a GGUF type");
        if (shape[shape.length - 1] % dtype.blockSize != 0)
            throw new IllegalArgumentException(name + ": innermost dimension is not a multiple of " + dtype.blockSize);
        tensors.put(name, new Entry(name, dtype, shape.clone(), dtype.bytesFor(n), data));
        return this;
    }

    /** Raw bytes in {@code dtype}; the segment must stay alive until {@link #write}. */
    public GgufWriter addTensor(String name, DType dtype, long[] shape, MemorySegment data) {
        return addTensor(name, dtype, shape, data.byteSize(), out -> copy(data, out));
    }

    public GgufWriter addTensor(String name, DType dtype, long[] shape, byte[] data) {
        return addTensor(name, dtype, shape, MemorySegment.ofArray(data));
    }

    /** Floats converted to {@code dtype} (F32, F16, BF16, Q8_0, Q4_0) while writing. */
    public GgufWriter addTensor(String name, DType dtype, long[] shape, float[] data) {
        long n = 1;
        for (long d : shape) n *= d;
        if (n != data.length) throw new IllegalArgumentException(name + ": " + data.length + " floats for shape of " + n);
        return addTensor(name, dtype, shape, dtype.bytesFor(n), out -> encode(dtype, data, out));
    }

    private GgufWriter addTensor(String name, DType dtype, long[] shape, long size, TensorData data) {
        addTensor(name, dtype, shape, data);
        long want = tensors.get(name).bytes;
        if (size != want) {
            tensors.remove(name);
            throw new IllegalArgumentException(name + ": " + size + " bytes of data, shape " + java.util.Arrays.toString(shape)
                    + " as " + dtype + " needs " + want);
        }
        return this;
    }

    private static final int CHUNK = 1 << 20;

    private static void copy(MemorySegment data, OutputStream out) throws IOException {
        byte[] buf = new byte[(int) Math.min(CHUNK, data.byteSize())];
        for (long p = 0; p < data.byteSize(); p += buf.length) {
            int len = (int) Math.min(buf.length, data.byteSize() - p);
            MemorySegment.copy(data, ValueLayout.JAVA_BYTE, p, buf, 0, len);
            out.write(buf, 0, len);
        }
    }

    private static void encode(DType dtype, float[] data, OutputStream out) throws IOException {
        int step = 32 * 8192; // a multiple of every block size
        byte[] buf = new byte[(int) dtype.bytesFor(Math.min(step, data.length))];
        MemorySegment seg = MemorySegment.ofArray(buf);
        for (int p = 0; p < data.length; p += step) {
            int n = Math.min(step, data.length - p);
            Quantize.encode(dtype, data, p, n, seg, 0);
            out.write(buf, 0, (int) dtype.bytesFor(n));
        }
    }

    // ---- output ----

    private int alignmentValue() {
        Value a = metadata.get("general.alignment");
        return a == null ? GgufFile.DEFAULT_ALIGNMENT : (int) (long) (Long) a.value;
    }

    /**
     * Writes the file (to {@code path.tmp} first, renamed when complete, so a failed write leaves no half file
     * behind: the {@code .tmp} is removed on any exception, a tensor source's included).
     */
    public void write(Path path) {
        Path tmp = path.resolveSibling(path.getFileName() + ".tmp");
        try {
            try (OutputStream os = Files.newOutputStream(tmp)) {
                writeTo(os);
            }
            try {
                Files.move(tmp, path, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, path, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            try { Files.deleteIfExists(tmp); } catch (IOException ignored) { }
            throw new UncheckedIOException(path + ": " + e.getMessage(), e);
        } catch (RuntimeException | Error e) {
            try { Files.deleteIfExists(tmp); } catch (IOException ignored) { }
            throw e;
        }
    }

    public void writeTo(OutputStream os) throws IOException {
        int alignment = alignmentValue();
        Le out = new Le(new BufferedOutputStream(os, 1 << 16));
        out.bytes("GGUF".getBytes(StandardCharsets.US_ASCII));
        out.u32(3);
        out.u64(tensors.size());
        out.u64(metadata.size());
        for (var e : metadata.entrySet()) {
            out.string(e.getKey());
            out.u32(e.getValue().type.id);
            out.value(e.getValue().type, e.getValue().value);
        }
        long offset = 0;
        for (Entry t : tensors.values()) {
            out.string(t.name);
            out.u32(t.shape.length);
            for (int d = t.shape.length - 1; d >= 0; d--) out.u64(t.shape[d]);
            out.u32(t.dtype.ggmlId);
            out.u64(offset);
            offset = GgufFile.align(offset + t.bytes, alignment);
        }
        out.pad(alignment);
        for (Entry t : tensors.values()) {
            long before = out.written;
            t.data.writeTo(out);
            if (out.written - before != t.bytes)
                throw new IOException("tensor '" + t.name + "' wrote " + (out.written - before) + " bytes, expected " + t.bytes);
            out.pad(alignment);
        }
        out.flush();
    }

    /** Little-endian primitive output that counts bytes, for padding and size checks. */
    private static final class Le extends OutputStream {
        private final OutputStream out;
        private final byte[] scratch = new byte[8];
        long written;

        Le(OutputStream out) {
            this.out = out;
        }

        @Override public void write(int b) throws IOException { out.write(b); written++; }
        @Override public void write(byte[] b, int off, int len) throws IOException { out.write(b, off, len); written += len; }
        @Override public void flush() throws IOException { out.flush(); }

        void bytes(byte[] b) throws IOException { write(b, 0, b.length); }

        void le(long v, int n) throws IOException {
            for (int i = 0; i < n; i++) scratch[i] = (byte) (v >>> (8 * i));
            write(scratch, 0, n);
        }

        void u32(long v) throws IOException { le(v, 4); }
        void u64(long v) throws IOException { le(v, 8); }

        void string(String s) throws IOException {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            u64(b.length);
            bytes(b);
        }

        void pad(int alignment) throws IOException {
            while (written % alignment != 0) write(0);
        }

        void value(GgufType t, Object v) throws IOException {
            switch (t) {
                case UINT8, INT8 -> le((Long) v, 1);
                case UINT16, INT16 -> le((Long) v, 2);
                case UINT32, INT32 -> le((Long) v, 4);
                case UINT64, INT64 -> le((Long) v, 8);
                case FLOAT32 -> le(Float.floatToRawIntBits((Float) v), 4);
                case FLOAT64 -> le(Double.doubleToRawLongBits((Double) v), 8);
                case BOOL -> write((Boolean) v ? 1 : 0);
                case STRING -> string((String) v);
                case ARRAY -> {
                    TypedArray a = (TypedArray) v;
                    u32(a.elementType.id);
                    u64(a.values.size());
                    for (Object e : a.values) value(a.elementType, e);
                }
            }
        }
    }
}
