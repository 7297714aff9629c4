package dev.moe4j.model.mutation;

import dev.moe4j.util.Json;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.UnaryOperator;

/**
 * Damages to the JSON of a checkpoint: values of config.json and tokenizer_config.json set to what no model
 * has (0, -1, 2^31-1, infinity, a string, null, a list) or removed; each safetensors tensor entry's dtype,
 * shape, data_offsets and name, and the header length; the index's weight map. Safetensors headers and the
 * index also get bytes replaced at random: every byte there is a name, an offset, a dimension or syntax, so
 * each replacement must be detected. (In config.json a replaced digit may give another valid model.)
 */
final class JsonMutations {
    private static final Object REMOVE = new Object();
    private static final String SYNTAX = "{}[]:,\"0123456789 -.eE\\nulatrsF";

    private JsonMutations() {}

    // ---- config.json, tokenizer_config.json ----

    /** Each top-level value (and each value one level down) replaced by each hostile value, or removed. */
    static List<Mutation> config(String file, byte[] bytes) {
        Map<String, Object> root = Json.parseObject(new String(bytes, StandardCharsets.UTF_8));
        List<Mutation> out = new ArrayList<>();
        for (var e : root.entrySet()) {
            List<Object> path = List.of(e.getKey());
            values(file, bytes, path, e.getValue(), out);
            if (e.getValue() instanceof Map<?, ?> m) {
                for (Object k : m.keySet()) values(file, bytes, List.of(e.getKey(), k), m.get(k), out);
            } else if (e.getValue() instanceof List<?> l && !l.isEmpty()) {
                values(file, bytes, List.of(e.getKey(), l.size() / 2), l.get(l.size() / 2), out);
            }
        }
        return out;
    }

    private static void values(String file, byte[] bytes, List<Object> path, Object original, List<Mutation> out) {
        for (Object v : hostile(original)) set(file, bytes, path, v, out);
        set(file, bytes, path, REMOVE, out);
    }

    /** The file with the value at {@code path} replaced by {@code v} (or removed). */
    private static void set(String file, byte[] bytes, List<Object> path, Object v, List<Mutation> out) {
        String what = String.join(".", path.stream().map(String::valueOf).toList()) + (v == REMOVE ? " removed" : " = " + JsonText.write(v));
        out.add(new Mutation(file, what, () -> JsonText.write(replace(Json.parse(new String(bytes, StandardCharsets.UTF_8)), path, 0, v))
                .getBytes(StandardCharsets.UTF_8)));
    }

    /** Values no model has, of the original's kind and of other kinds; in-range alternatives are left out. */
    static List<Object> hostile(Object original) {
        return switch (original) {
            case Long n -> List.of(0L, -1L, 2147483647L, 2147483648L, new JsonText.Raw("1e400"), 1.5, String.valueOf(n), true, List.of());
            case Double d -> List.of(0L, 0.0, -1L, -1e-3, new JsonText.Raw("1e400"), new JsonText.Raw("-1e400"), "x", true, List.of());
            case Boolean x -> List.of(String.valueOf(x), 1L, List.of());
            case String s -> List.of("x" + s, 7L, List.of());
            case List<?> l -> List.of(5L, "x", List.of("x"));
            case Map<?, ?> m -> List.of(5L, List.of());
            case null -> List.of(-1L, "x", List.of("x"));
            default -> List.of();
        };
    }

    @SuppressWarnings("unchecked")
    private static Object replace(Object node, List<Object> path, int depth, Object value) {
        Object key = path.get(depth);
        if (node instanceof Map<?, ?> m) {
            Map<String, Object> map = (Map<String, Object>) m;
            if (depth + 1 < path.size()) map.put((String) key, replace(map.get(key), path, depth + 1, value));
            else if (value == REMOVE) map.remove(key);
            else map.put((String) key, value);
        } else {
            List<Object> list = (List<Object>) node;
            int i = (Integer) key;
            if (depth + 1 < path.size()) list.set(i, replace(list.get(i), path, depth + 1, value));
            else if (value == REMOVE) list.remove(i);
            else list.set(i, value);
        }
        return node;
    }

    // ---- safetensors ----

    /** Damages to each tensor entry of a safetensors header, to its length field, and to random header bytes. */
    static List<Mutation> safetensors(String file, byte[] bytes, Random random) {
        ByteBuffer in = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        int n = (int) in.getLong(0);
        String text = new String(bytes, 8, n, StandardCharsets.UTF_8);
        Map<String, Object> header = Json.parseObject(text.strip());
        List<Mutation> out = new ArrayList<>();
        for (long v : new long[] {n + 1, n - 1, n + 8, n - 8, 0, 1, bytes.length, Long.MAX_VALUE}) {
            out.add(Mutation.patch(file, "header length = " + v, bytes, 0, Mutation.le(v, 8)));
        }
        for (int k = 0; k < 24; k++) {
            int at = 8 + random.nextInt(n);
            char c = SYNTAX.charAt(random.nextInt(SYNTAX.length()));
            if (bytes[at] != c) {
                out.add(Mutation.patch(file, "header byte " + (at - 8) + " ('" + (char) bytes[at] + "') = '" + c + "'", bytes, at, new byte[] {(byte) c}));
            }
        }
        List<String> names = new ArrayList<>(header.keySet());
        names.remove("__metadata__");
        if (header.containsKey("__metadata__")) entry(file, bytes, n, "__metadata__", e -> 5L, "replaced by 5", out);
        for (String name : names) {
            Map<?, ?> t = (Map<?, ?>) header.get(name);
            String dtype = (String) t.get("dtype");
            List<?> shape = (List<?>) t.get("shape");
            List<?> offsets = (List<?>) t.get("data_offsets");
            long begin = (Long) offsets.get(0), end = (Long) offsets.get(1);
            for (String d : List.of("F32", "F16", "BF16", "I32", "I64", "F64", "U8", "BOOL", "f32")) {
                if (!d.equals(dtype)) field(file, bytes, n, name, "dtype", d, out);
            }
            for (List<Object> s : shapes(shape, random)) field(file, bytes, n, name, "shape", s, out);
            String other = names.get(random.nextInt(names.size()));
            long elem = shape.isEmpty() || end == begin ? 1 : (end - begin) / product(shape);
            for (List<Object> o : List.<List<Object>>of(List.of(begin + 1, end + 1), List.of(begin, end + 1), List.of(begin + 1, end),
                    List.of(begin + elem, end + elem), List.of(Math.max(0, begin - elem), Math.max(0, end - elem)),
                    new ArrayList<>((List<?>) ((Map<?, ?>) header.get(other)).get("data_offsets")), List.of(end, begin),
                    List.of(0L, 0L), List.of(0L, 1L << 60), List.of(begin), List.of("x", end))) {
                if (!o.equals(offsets)) field(file, bytes, n, name, "data_offsets", o, out);
            }
            int at = random.nextInt(name.length());
            String renamed = name.substring(0, at) + "qz.9".charAt(random.nextInt(4)) + name.substring(at + 1);
            entry(file, bytes, n, name, e -> REMOVE, "removed", out);
            rename(file, bytes, n, name, renamed, out);
        }
        return out;
    }

    private static long product(List<?> shape) {
        long p = 1;
        for (Object d : shape) p *= (Long) d;
        return Math.max(p, 1);
    }

    /** Shapes with one dimension changed, one dropped or added, two swapped, or of the wrong kind. */
    private static List<List<Object>> shapes(List<?> shape, Random random) {
        List<List<Object>> out = new ArrayList<>();
        if (!shape.isEmpty()) {
            int d = random.nextInt(shape.size());
            long n = (Long) shape.get(d);
            for (long v : new long[] {n + 1, n - 1, 2 * n, 0, -1}) {
                List<Object> s = new ArrayList<>(shape);
                s.set(d, v);
                out.add(s);
            }
            out.add(new ArrayList<>(shape.subList(0, shape.size() - 1)));
        }
        List<Object> more = new ArrayList<>(shape);
        more.add(1L);
        out.add(more);
        List<Object> front = new ArrayList<>(shape);
        front.addFirst(1L);
        out.add(front);
        if (shape.size() >= 2 && !shape.get(0).equals(shape.get(1))) {
            List<Object> swapped = new ArrayList<>(shape);
            swapped.set(0, shape.get(1));
            swapped.set(1, shape.get(0));
            out.add(swapped);
        }
        out.add(List.of("x"));
        return out;
    }

    private static void field(String file, byte[] bytes, int n, String name, String key, Object value, List<Mutation> out) {
        entry(file, bytes, n, name, e -> {
            @SuppressWarnings("unchecked") Map<String, Object> m = (Map<String, Object>) e;
            m.put(key, value);
            return m;
        }, key + " = " + JsonText.write(value), out);
    }

    /** The header with tensor {@code name}'s entry changed by {@code change} (which may return REMOVE). */
    private static void entry(String file, byte[] bytes, int n, String name, UnaryOperator<Object> change, String what, List<Mutation> out) {
        out.add(new Mutation(file, "tensor '" + name + "' " + what, () -> {
            Map<String, Object> header = Json.parseObject(new String(bytes, 8, n, StandardCharsets.UTF_8).strip());
            Object changed = change.apply(header.get(name));
            if (changed == REMOVE) header.remove(name);
            else header.put(name, changed);
            return withHeader(bytes, n, header);
        }));
    }

    private static void rename(String file, byte[] bytes, int n, String name, String renamed, List<Mutation> out) {
        out.add(new Mutation(file, "tensor '" + name + "' renamed '" + renamed + "'", () -> {
            Map<String, Object> header = Json.parseObject(new String(bytes, 8, n, StandardCharsets.UTF_8).strip());
            Map<String, Object> copy = new LinkedHashMap<>();
            header.forEach((k, v) -> copy.put(k.equals(name) ? renamed : k, v));
            return withHeader(bytes, n, copy);
        }));
    }

    /** The file with a new header (padded with spaces to 8 bytes, as the format's writers do) before the same data. */
    private static byte[] withHeader(byte[] bytes, int oldLength, Map<String, Object> header) {
        StringBuilder text = new StringBuilder(JsonText.write(header));
        while (text.length() % 8 != 0) text.append(' ');
        byte[] h = text.toString().getBytes(StandardCharsets.UTF_8);
        int data = bytes.length - 8 - oldLength;
        ByteBuffer out = ByteBuffer.allocate(8 + h.length + data).order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(h.length).put(h).put(bytes, 8 + oldLength, data);
        return out.array();
    }

    // ---- model.safetensors.index.json ----

    /** Damages to the index: a tensor sent to another or a missing shard, renamed or dropped; random bytes. */
    static List<Mutation> index(String file, byte[] bytes, Random random) {
        Map<String, Object> root = Json.parseObject(new String(bytes, StandardCharsets.UTF_8));
        Map<?, ?> weightMap = (Map<?, ?>) root.get("weight_map");
        List<String> shards = weightMap.values().stream().map(String::valueOf).distinct().toList();
        List<Mutation> out = new ArrayList<>();
        for (Object key : weightMap.keySet()) {
            String name = (String) key, shard = (String) weightMap.get(key);
            String other = shards.get(random.nextInt(shards.size()));
            for (Object v : List.of(other, "model-00009-of-00004.safetensors", 5L, REMOVE)) {
                if (v.equals(shard)) continue;
                set(file, bytes, List.of("weight_map", name), v, out);
            }
        }
        set(file, bytes, List.of("weight_map"), 5L, out);
        for (int k = 0; k < 24; k++) {
            int at = random.nextInt(bytes.length);
            char c = SYNTAX.charAt(random.nextInt(SYNTAX.length()));
            if (bytes[at] != c) out.add(Mutation.patch(file, "byte " + at + " ('" + (char) bytes[at] + "') = '" + c + "'", bytes, at, new byte[] {(byte) c}));
        }
        return out;
    }
}
