package dev.moe4j.format.safetensors;

import dev.moe4j.tensor.DType;
import dev.moe4j.tensor.Tensor;
import dev.moe4j.tensor.TensorStore;
import dev.moe4j.util.Json;
import dev.moe4j.util.Moe4jException;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Memory-mapped safetensors: one {@code .safetensors} file, or a checkpoint folder with
 * {@code model.safetensors} or a sharded {@code model.safetensors.index.json}. Every header entry is
 * checked against the file before a tensor is handed out.
 */
public final class SafetensorsStore implements TensorStore {
    public static final String SINGLE = "model.safetensors";
    public static final String INDEX = "model.safetensors.index.json";

    private final Path source;
    private final Arena arena;
    private final Map<String, Tensor> tensors;
    private final Map<String, Object> metadata;

    private SafetensorsStore(Path source, Arena arena, Map<String, Tensor> tensors, Map<String, Object> metadata) {
        this.source = source;
        this.arena = arena;
        this.tensors = Collections.unmodifiableMap(tensors);
        this.metadata = Collections.unmodifiableMap(metadata);
    }

    /** Opens a file, an index file, or a folder holding either. */
    public static SafetensorsStore open(Path path) {
        Path target = path;
        if (Files.isDirectory(path)) {
            if (Files.isRegularFile(path.resolve(INDEX))) target = path.resolve(INDEX);
            else if (Files.isRegularFile(path.resolve(SINGLE))) target = path.resolve(SINGLE);
            else throw new Moe4jException(path + ": folder has neither " + SINGLE + " nor " + INDEX);
        }
        Arena arena = Arena.ofShared();
        try {
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            Map<String, Object> metadata = new LinkedHashMap<>();
            if (target.getFileName().toString().endsWith(".index.json")) openSharded(target, arena, tensors, metadata);
            else readFile(target, arena, tensors, metadata);
            return new SafetensorsStore(path, arena, tensors, metadata);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    private static void openSharded(Path index, Arena arena, Map<String, Tensor> tensors, Map<String, Object> metadata) {
        Map<String, Object> json = Json.parseFile(index, Json.MAX_CONFIG_BYTES);
        Map<String, Object> weightMap = Json.obj(json.get("weight_map"));
        if (weightMap == null) throw new Moe4jException(index + ": no \"weight_map\" object");
        Map<String, Object> indexMeta = Json.obj(json.get("metadata"));
        if (indexMeta != null) metadata.putAll(indexMeta);

        Map<String, Map<String, Tensor>> shards = new LinkedHashMap<>();
        for (var e : weightMap.entrySet()) {
            if (!(e.getValue() instanceof String shard) || shard.isEmpty())
                throw new Moe4jException(index + ": weight_map entry for tensor '" + e.getKey() + "' is not a file name");
            Map<String, Tensor> content = shards.get(shard);
            if (content == null) {
                Path file = index.resolveSibling(shard);
                if (!Files.isRegularFile(file))
                    throw new Moe4jException(index + ": shard '" + shard + "' (for tensor '" + e.getKey() + "') does not exist");
                content = new LinkedHashMap<>();
                readFile(file, arena, content, metadata);
                shards.put(shard, content);
            }
            Tensor t = content.get(e.getKey());
            if (t == null) throw new Moe4jException(index + ": tensor '" + e.getKey() + "' is not in shard '" + shard + "'");
            tensors.put(e.getKey(), t);
        }
    }

    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** Largest header accepted (the format's own limit): a larger one is corrupt, and would be read onto the heap. */
    static final long MAX_HEADER_BYTES = 100L << 20;

    /** Maps one file and adds its tensors (in header order) and {@code __metadata__}. */
    private static void readFile(Path file, Arena arena, Map<String, Tensor> out, Map<String, Object> metadata) {
        MemorySegment seg;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            seg = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
        } catch (NoSuchFileException e) {
            throw new Moe4jException(file + ": no such file");
        } catch (IOException e) {
            throw new Moe4jException(file + ": cannot read: " + e.getMessage(), e);
        }
        long size = seg.byteSize();
        if (size < 8) throw new Moe4jException(file + ": file is " + size + " bytes, too short for a safetensors header");
        long n = seg.get(LONG, 0);
        if (n < 2 || n > size - 8 || n > MAX_HEADER_BYTES)
            throw new Moe4jException(file + ": header length " + Long.toUnsignedString(n) + " does not fit the file (" + size
                    + " bytes; at most " + MAX_HEADER_BYTES + " accepted)");
        Map<String, Object> header;
        try {
            String text = StandardCharsets.UTF_8.newDecoder().decode(seg.asSlice(8, n).asByteBuffer()).toString();
            header = Json.parseObject(text.stripTrailing());
        } catch (CharacterCodingException e) {
            throw new Moe4jException(file + ": header is not valid UTF-8");
        } catch (IllegalArgumentException e) {
            throw new Moe4jException(file + ": header is " + e.getMessage());
        }
        long dataStart = 8 + n, dataSize = size - dataStart;
        Map<String, Entry> entries = new LinkedHashMap<>();
        for (var e : header.entrySet()) {
            String name = e.getKey();
            if (name.equals("__metadata__")) {
                Map<String, Object> m = Json.obj(e.getValue());
                if (m == null) throw new Moe4jException(file + ": __metadata__ is not an object");
                m.forEach(metadata::putIfAbsent);
                continue;
            }
            Entry t = Entry.parse(file, name, e.getValue());
            if (t.end > dataSize)
                throw new Moe4jException(file + ": tensor '" + name + "' data_offsets [" + t.begin + ", " + t.end
                        + "] extend past the data section (" + dataSize + " bytes)");
            entries.put(name, t);
        }
        checkTiling(file, entries, dataSize);
        entries.forEach((name, t) ->
                out.put(name, new Tensor(name, t.dtype, t.shape, seg.asSlice(dataStart + t.begin, t.end - t.begin))));
    }

    /**
     * The tensors must cover the data section exactly, without gaps or overlaps, as the format requires: a
     * byte range that is off by any amount (a wrong offset, header length, dtype or shape) then shows.
     */
    private static void checkTiling(Path file, Map<String, Entry> entries, long dataSize) {
        List<Map.Entry<String, Entry>> byOffset = new ArrayList<>(entries.entrySet());
        byOffset.sort(Comparator.comparingLong((Map.Entry<String, Entry> e) -> e.getValue().begin)
                .thenComparingLong(e -> e.getValue().end));
        long covered = 0;
        String previous = null;
        for (var e : byOffset) {
            Entry t = e.getValue();
            if (t.begin != covered) {
                throw new Moe4jException(file + ": tensor '" + e.getKey() + "' data_offsets [" + t.begin + ", " + t.end + "] "
                        + (previous == null ? "do not start the data section at 0"
                        : (t.begin < covered ? "overlap" : "leave a gap after") + " tensor '" + previous + "', which ends at " + covered)
                        + " (tensors must tile the data section)");
            }
            covered = t.end;
            previous = e.getKey();
        }
        if (covered != dataSize) {
            throw new Moe4jException(file + ": the tensors cover " + covered + " bytes of data but the file holds " + dataSize
                    + " after its header" + (previous == null ? "" : " (last: tensor '" + previous + "')")
                    + " — a wrong header length or data_offsets");
        }
    }

    /** One validated header entry. */
    private record Entry(DType dtype, long[] shape, long begin, long end) {
        static Entry parse(Path file, String name, Object value) {
            String what = file + ": tensor '" + name + "'";
            Map<String, Object> m = Json.obj(value);
            if (m == null) throw new Moe4jException(what + " header entry is not an object");
            if (!(m.get("dtype") instanceof String ds)) throw new Moe4jException(what + " has no dtype");
            DType dtype = SafetensorsStore.dtype(ds);
            if (dtype == null)
                throw new Moe4jException(what + " has dtype " + ds + ", which moe4j does not support (F32, F16, BF16, F8_E4M3, U8, I32, I64, F64)");
            List<Object> sh = Json.arr(m.get("shape"));
            if (sh == null) throw new Moe4jException(what + " has no shape");
            long[] shape = new long[sh.size()];
            long elements = 1;
            for (int i = 0; i < shape.length; i++) {
                if (!(sh.get(i) instanceof Long d) || d < 0) throw new Moe4jException(what + " has a bad shape " + sh);
                shape[i] = d;
                try {
                    elements = Math.multiplyExact(elements, d);
                } catch (ArithmeticException ex) {
                    throw new Moe4jException(what + " shape " + sh + " is too large");
                }
            }
            List<Object> off = Json.arr(m.get("data_offsets"));
            if (off == null || off.size() != 2 || !(off.get(0) instanceof Long b) || !(off.get(1) instanceof Long en) || b < 0 || en < b)
                throw new Moe4jException(what + " has bad data_offsets " + m.get("data_offsets"));
            if (elements > Long.MAX_VALUE / dtype.blockBytes || en - b != elements * dtype.blockBytes)
                throw new Moe4jException(what + " data_offsets [" + b + ", " + en + "] hold " + (en - b) + " bytes but shape "
                        + sh + " of " + ds + " needs " + (elements > Long.MAX_VALUE / dtype.blockBytes ? "more" : elements * dtype.blockBytes));
            return new Entry(dtype, shape, b, en);
        }
    }

    /** The DType of a safetensors dtype name, or null if unsupported. */
    public static DType dtype(String name) {
        return switch (name) {
            case "F32" -> DType.F32;
            case "F16" -> DType.F16;
            case "BF16" -> DType.BF16;
            case "I32" -> DType.I32;
            case "I64" -> DType.I64;
            case "F64" -> DType.F64;
            case "U8" -> DType.U8;
            case "F8_E4M3" -> DType.F8_E4M3;
            default -> null;
        };
    }

    /** The safetensors name of a DType that safetensors can hold. */
    public static String dtypeName(DType t) {
        return switch (t) {
            case F32, F16, BF16, I32, I64, F64, U8, F8_E4M3 -> t.name();
            default -> throw new IllegalArgumentException(t + " has no safetensors dtype");
        };
    }

    @Override
    public Optional<Tensor> find(String name) {
        return Optional.ofNullable(tensors.get(name));
    }

    /** The tensor with this name, or a Moe4jException naming the checkpoint. */
    public Tensor tensor(String name) {
        Tensor t = tensors.get(name);
        if (t == null) throw new Moe4jException(source + ": no tensor '" + name + "'");
        return t;
    }

    @Override
    public Set<String> names() {
        return tensors.keySet();
    }

    @Override
    public Path source() {
        return source;
    }

    @Override
    public Map<String, Object> metadata() {
        return metadata;
    }

    @Override
    public void close() {
        arena.close();
    }

    @Override
    public String toString() {
        return source + " (safetensors, " + tensors.size() + " tensors)";
    }
}
