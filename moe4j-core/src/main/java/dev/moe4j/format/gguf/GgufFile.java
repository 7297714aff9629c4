package dev.moe4j.format.gguf;

import dev.moe4j.tensor.DType;
import dev.moe4j.tensor.GgmlTypeNames;
import dev.moe4j.tensor.Tensor;
import dev.moe4j.tensor.TensorStore;
import dev.moe4j.util.Moe4jException;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;

/**
 * A memory-mapped GGUF (v2/v3, little-endian) file. The whole file is one mapped segment; the header is
 * parsed from it with every length checked against the bytes that remain, and each tensor's data is a
 * slice. Tensor shapes are reversed into outermost-first order.
 */
public final class GgufFile implements TensorStore {
    public static final int DEFAULT_ALIGNMENT = 32;
    /** More tensors than any model has (a 671B model stored per expert has under 50,000). */
    static final long MAX_TENSORS = 1 << 20;
    static final int MAGIC = 0x46554747; // "GGUF" read as a little-endian int

    private final Path path;
    private final Arena arena;
    private final int version;
    private final Map<String, Object> metadata;
    private final Map<String, GgufType> types;
    private final Map<String, GgufType> elementTypes;
    private final Map<String, Tensor> tensors;
    private final long dataOffset;
    private final int alignment;

    private GgufFile(Path path, Arena arena, int version, Map<String, Object> metadata, Map<String, GgufType> types,
                     Map<String, GgufType> elementTypes, Map<String, Tensor> tensors, long dataOffset, int alignment) {
        this.path = path;
        this.types = types;
        this.elementTypes = elementTypes;
        this.arena = arena;
        this.version = version;
        this.metadata = metadata;
        this.tensors = tensors;
        this.dataOffset = dataOffset;
        this.alignment = alignment;
    }

    /** Maps and validates {@code path}; any defect is a one-line {@link Moe4jException} naming the file. */
    public static GgufFile open(Path path) {
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            MemorySegment seg = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
            return parse(path, arena, seg);
        } catch (NoSuchFileException e) {
            arena.close();
            throw new Moe4jException(path + ": no such file");
        } catch (IOException e) {
            arena.close();
            throw new Moe4jException(path + ": cannot read: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    /** One tensor description from the header: shape outermost-first, offset relative to the data section. */
    private record Info(String name, long[] shape, DType type, long offset, long bytes) {}

    private static GgufFile parse(Path path, Arena arena, MemorySegment seg) {
        GgufReader r = new GgufReader(path, seg);
        if (seg.byteSize() < 4) throw r.error("file is " + seg.byteSize() + " bytes, too short for a GGUF header");
        if (r.u32("magic") != MAGIC) throw r.error("not a GGUF file (bad magic)");
        r.need(4, "version");
        int version = (int) r.u32("version");
        if (version != 2 && version != 3) {
            if (Integer.reverseBytes(version) == 2 || Integer.reverseBytes(version) == 3)
                throw r.error("big-endian GGUF is not supported");
            throw r.error("GGUF version " + Integer.toUnsignedString(version) + " is not supported (only 2 and 3)");
        }
        long tensorCount = r.count("tensor count", 8 + 4 + 4 + 8); // name length, dims, type, offset
        if (tensorCount > MAX_TENSORS) throw r.error("tensor count " + tensorCount + " is more than the " + MAX_TENSORS + " accepted");
        long kvCount = r.count("metadata key/value count", 8 + 4 + 1);

        Map<String, Object> meta = new LinkedHashMap<>();
        Map<String, GgufType> types = new java.util.HashMap<>(), elementTypes = new java.util.HashMap<>();
        for (long i = 0; i < kvCount; i++) {
            String key = r.string("metadata key #" + i);
            String field = "metadata '" + key + "'";
            GgufType type = r.type(field);
            if (meta.containsKey(key)) throw r.error("duplicate metadata key '" + key + "'");
            meta.put(key, r.value(type, field, 0));
            types.put(key, type);
            if (type == GgufType.ARRAY) elementTypes.put(key, r.lastArrayElementType);
        }

        int alignment = DEFAULT_ALIGNMENT;
        Object a = meta.get("general.alignment");
        if (a != null) {
            if (!(a instanceof Long l) || l <= 0 || l > (1 << 30) || Long.bitCount(l) != 1)
                throw r.error("metadata 'general.alignment' = " + a + " is not a power of two");
            alignment = (int) (long) a;
        }

        Info[] infos = new Info[(int) tensorCount];
        Map<String, Boolean> seen = new java.util.HashMap<>();
        for (int i = 0; i < tensorCount; i++) {
            String name = r.string("tensor #" + i + " name");
            String what = "tensor '" + name + "'";
            if (seen.put(name, true) != null) throw r.error("duplicate tensor name '" + name + "'");
            long nDims = r.u32(what + " dimension count");
            if (nDims < 1 || nDims > 4) throw r.error(what + " has " + nDims + " dimensions (1 to 4 allowed)");
            r.need(8 * nDims, what + " dimensions");
            long[] shape = new long[(int) nDims];
            long elements = 1;
            for (int d = 0; d < nDims; d++) {
                long n = r.u64(what + " dimension");
                if (n <= 0) throw r.error(what + " dimension " + d + " is " + Long.toUnsignedString(n) + " (must be positive)");
                shape[(int) nDims - 1 - d] = n;
                try {
                    elements = Math.multiplyExact(elements, n);
                } catch (ArithmeticException e) {
                    throw r.error(what + " has too many elements");
                }
            }
            int typeId = (int) r.u32(what + " type");
            DType type = DType.fromGgml(typeId);
            if (type == null) throw r.error(what + " has tensor type " + GgmlTypeNames.describe(Integer.toUnsignedLong(typeId)) + ", which moe4j does not support");
            long inner = shape[shape.length - 1];
            if (inner % type.blockSize != 0)
                throw r.error(what + " is " + type + " but its innermost dimension " + inner + " is not a multiple of the block size " + type.blockSize);
            long offset = r.u64(what + " data offset");
            if (offset < 0 || offset % alignment != 0)
                throw r.error(what + " data offset " + Long.toUnsignedString(offset) + " is not a multiple of the alignment " + alignment);
            if (elements / type.blockSize > Long.MAX_VALUE / type.blockBytes) throw r.error(what + " is too large");
            long bytes = elements / type.blockSize * type.blockBytes;
            infos[i] = new Info(name, shape, type, offset, bytes);
        }

        long dataOffset = align(r.pos, alignment);
        long size = seg.byteSize();
        if (tensorCount > 0 && dataOffset > size)
            throw r.error("tensor data section starts at " + dataOffset + ", past the end of the file (" + size + " bytes)");
        // As llama.cpp requires, tensors follow each other in the order they are listed, each padded to the
        // alignment. A wrong type, shape or offset in any tensor description then shows as a broken chain.
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        long next = 0;   // where the next tensor must start, relative to the data section
        for (int i = 0; i < infos.length; i++) {
            Info t = infos[i];
            long start = dataOffset + t.offset;
            if (t.offset > size || start > size || t.bytes > size - start)
                throw r.error("tensor '" + t.name + "' data [offset " + Long.toUnsignedString(t.offset + dataOffset) + ", " + t.bytes
                        + " bytes] extends past the end of the file (" + size + " bytes)");
            if (t.offset != next) {
                String where = i == 0 ? "0, where the first tensor's data belongs"
                        : next + ", where the tensor before it, '" + infos[i - 1].name + "' (" + describe(infos[i - 1])
                        + "), ends padded to " + alignment + " bytes";
                throw r.error("tensor '" + t.name + "' data starts at offset " + t.offset + " of the data section, not at " + where
                        + " (a wrong type, shape or offset)");
            }
            next = align(t.offset + t.bytes, alignment);
            tensors.put(t.name, new Tensor(t.name, t.type, t.shape, seg.asSlice(start, t.bytes)));
        }
        if (infos.length > 0) {
            Info last = infos[infos.length - 1];
            long trailing = size - (dataOffset + last.offset + last.bytes);
            if (trailing >= alignment)
                throw r.error(trailing + " bytes follow the data of the last tensor, '" + last.name + "' (" + describe(last)
                        + "), where at most " + (alignment - 1) + " bytes of padding belong (a wrong type, shape or offset)");
        }
        return new GgufFile(path, arena, version, Collections.unmodifiableMap(meta), types, elementTypes,
                Collections.unmodifiableMap(tensors), dataOffset, alignment);
    }

    private static String describe(Info t) {
        return t.type() + " " + java.util.Arrays.toString(t.shape()) + ", " + t.bytes() + " bytes from " + t.offset();
    }

    static long align(long pos, long alignment) {
        return (pos + alignment - 1) / alignment * alignment;
    }

    // ---- TensorStore ----

    @Override
    public Optional<Tensor> find(String name) {
        return Optional.ofNullable(tensors.get(name));
    }

    /** The tensor with this name, or a Moe4jException naming the file. */
    public Tensor tensor(String name) {
        Tensor t = tensors.get(name);
        if (t == null) throw new Moe4jException(path + ": no tensor '" + name + "'");
        return t;
    }

    /** All tensors in file order. */
    public List<Tensor> tensors() {
        return List.copyOf(tensors.values());
    }

    @Override
    public Set<String> names() {
        return tensors.keySet();
    }

    @Override
    public Path source() {
        return path;
    }

    @Override
    public Map<String, Object> metadata() {
        return metadata;
    }

    @Override
    public void close() {
        arena.close();
    }

    public int version() {
        return version;
    }

    public int alignment() {
        return alignment;
    }

    /** File offset where the tensor data section starts (tensor offsets are relative to it). */
    public long tensorDataOffset() {
        return dataOffset;
    }

    // ---- typed metadata ----

    /** The GGUF type a metadata value was stored with (all integer types read back as Long). */
    public Optional<GgufType> typeOf(String key) {
        return Optional.ofNullable(types.get(key));
    }

    /** For an array value, the type of its elements. */
    public Optional<GgufType> elementTypeOf(String key) {
        return Optional.ofNullable(elementTypes.get(key));
    }

    public Optional<Object> get(String key) {
        return Optional.ofNullable(metadata.get(key));
    }

    private Object require(String key) {
        Object v = metadata.get(key);
        if (v == null) throw new Moe4jException(path + ": metadata key '" + key + "' is missing");
        return v;
    }

    private Moe4jException wrongType(String key, Object v, String expected) {
        return new Moe4jException(path + ": metadata '" + key + "' is " + describe(v) + ", expected " + expected);
    }

    private static String describe(Object v) {
        return switch (v) {
            case String s -> "a string";
            case Long l -> "an integer";
            case Float f -> "a float32";
            case Double d -> "a float64";
            case Boolean b -> "a bool";
            case List<?> l -> "an array";
            default -> v.getClass().getSimpleName();
        };
    }

    public String getString(String key) {
        Object v = require(key);
        if (v instanceof String s) return s;
        throw wrongType(key, v, "a string");
    }

    public Optional<String> findString(String key) {
        return metadata.containsKey(key) ? Optional.of(getString(key)) : Optional.empty();
    }

    /** An integer value of any GGUF integer type (uint64 values above 2^63 come back negative). */
    public long getLong(String key) {
        Object v = require(key);
        if (v instanceof Long l) return l;
        throw wrongType(key, v, "an integer");
    }

    public OptionalLong findLong(String key) {
        return metadata.containsKey(key) ? OptionalLong.of(getLong(key)) : OptionalLong.empty();
    }

    /** An integer that must fit an int, such as a layer or head count. */
    public int getInt(String key) {
        long v = getLong(key);
        if (v != (int) v) throw new Moe4jException(path + ": metadata '" + key + "' = " + v + " is out of range");
        return (int) v;
    }

    /** A float32 or float64 value (integers are accepted too: converters are not consistent). */
    public float getFloat(String key) {
        Object v = require(key);
        if (v instanceof Float || v instanceof Double || v instanceof Long) return ((Number) v).floatValue();
        throw wrongType(key, v, "a number");
    }

    public Optional<Float> findFloat(String key) {
        return metadata.containsKey(key) ? Optional.of(getFloat(key)) : Optional.empty();
    }

    public boolean getBool(String key) {
        Object v = require(key);
        if (v instanceof Boolean b) return b;
        throw wrongType(key, v, "a bool");
    }

    @SuppressWarnings("unchecked")
    public List<Object> getArray(String key) {
        Object v = require(key);
        if (v instanceof List<?> l) return (List<Object>) l;
        throw wrongType(key, v, "an array");
    }

    /** {@code general.architecture}, e.g. "llama", "qwen2moe". */
    public String architecture() {
        return getString("general.architecture");
    }

    @Override
    public String toString() {
        return path + " (GGUF v" + version + ", " + tensors.size() + " tensors, " + metadata.size() + " metadata keys)";
    }
}
