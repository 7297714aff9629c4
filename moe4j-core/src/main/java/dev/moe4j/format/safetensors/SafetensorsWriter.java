package dev.moe4j.format.safetensors;

import dev.moe4j.kernel.Quantize;
import dev.moe4j.tensor.DType;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/** Writes a safetensors file: tensors in the order added, string metadata, header padded to 8 bytes. */
public final class SafetensorsWriter {
    private record Entry(DType dtype, long[] shape, byte[] data) {}

    private final Map<String, Entry> tensors = new LinkedHashMap<>();
    private final Map<String, String> metadata = new LinkedHashMap<>();

    public SafetensorsWriter metadata(String key, String value) {
        metadata.put(key, value);
        return this;
    }

    /** Floats stored as F32, F16 or BF16. */
    public SafetensorsWriter add(String name, DType dtype, long[] shape, float[] data) {
        if (dtype != DType.F32 && dtype != DType.F16 && dtype != DType.BF16)
            throw new IllegalArgumentException(name + ": floats cannot be stored as " + dtype);
        return addRaw(name, dtype, shape, Quantize.encode(dtype, data));
    }

    public SafetensorsWriter add(String name, long[] shape, long[] data) {
        byte[] b = new byte[data.length * 8];
        MemorySegment.copy(data, 0, MemorySegment.ofArray(b), ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0, data.length);
        return addRaw(name, DType.I64, shape, b);
    }

    public SafetensorsWriter add(String name, long[] shape, int[] data) {
        byte[] b = new byte[data.length * 4];
        MemorySegment.copy(data, 0, MemorySegment.ofArray(b), ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0, data.length);
        return addRaw(name, DType.I32, shape, b);
    }

    /** Bytes already in {@code dtype}'s little-endian layout. */
    public SafetensorsWriter addRaw(String name, DType dtype, long[] shape, byte[] data) {
        SafetensorsStore.dtypeName(dtype);
        long n = 1;
        for (long d : shape) {
            if (d < 0) throw new IllegalArgumentException(name + ": negative dimension");
            n *= d;
        }
        if (n * dtype.blockBytes != data.length)
            throw new IllegalArgumentException(name + ": " + data.length + " bytes for shape " + Arrays.toString(shape) + " of " + dtype);
        if (tensors.put(name, new Entry(dtype, shape.clone(), data)) != null)
            throw new IllegalArgumentException("duplicate tensor '" + name + "'");
        return this;
    }

    public void write(Path path) {
        StringBuilder h = new StringBuilder("{");
        if (!metadata.isEmpty()) {
            h.append("\"__metadata__\":{");
            String sep = "";
            for (var e : metadata.entrySet()) {
                h.append(sep).append(quote(e.getKey())).append(':').append(quote(e.getValue()));
                sep = ",";
            }
            h.append('}');
        }
        long offset = 0;
        for (var e : tensors.entrySet()) {
            Entry t = e.getValue();
            if (h.length() > 1) h.append(',');
            h.append(quote(e.getKey())).append(":{\"dtype\":\"").append(SafetensorsStore.dtypeName(t.dtype))
                    .append("\",\"shape\":[");
            for (int i = 0; i < t.shape.length; i++) h.append(i > 0 ? "," : "").append(t.shape[i]);
            h.append("],\"data_offsets\":[").append(offset).append(',').append(offset + t.data.length).append("]}");
            offset += t.data.length;
        }
        h.append('}');
        byte[] header = h.toString().getBytes(StandardCharsets.UTF_8);
        int padded = (header.length + 7) / 8 * 8; // the reference implementation pads with spaces
        try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(path), 1 << 16)) {
            for (int i = 0; i < 8; i++) out.write((int) ((long) padded >>> (8 * i)));
            out.write(header);
            for (int i = header.length; i < padded; i++) out.write(' ');
            for (Entry t : tensors.values()) out.write(t.data);
        } catch (IOException e) {
            throw new UncheckedIOException(path + ": " + e.getMessage(), e);
        }
    }

    static String quote(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> {
                    if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
                    else b.append(c);
                }
            }
        }
        return b.append('"').toString();
    }
}
