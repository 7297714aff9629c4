package dev.moe4j.model;

import dev.moe4j.util.Moe4jException;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Typed, range-checked reads of a checkpoint's configuration: GGUF metadata or a parsed config.json. A value
 * that is present must have the expected type and range, else the read fails with one line naming the file
 * and the key; only an absent key falls back to a default. (A default silently standing in for a value of
 * the wrong type would load a different model than the file describes.)
 */
final class ConfigValues {
    private final Path source;
    private final Map<String, Object> values;
    private final String lookupPrefix;
    private final String namePrefix;
    private final String kind;
    /** GGUF types its values: a float key stored as an integer is a corrupt type id, not a converter's habit. */
    private final boolean integersAreNumbers;
    /** Keys whose JSON {@code null} means "absent" (as transformers reads them); elsewhere null is an error. */
    private final Set<String> nullable;

    private ConfigValues(Path source, Map<String, Object> values, String lookupPrefix, String namePrefix, String kind,
                         boolean integersAreNumbers, Set<String> nullable) {
        this.source = source;
        this.values = values;
        this.lookupPrefix = lookupPrefix;
        this.namePrefix = namePrefix;
        this.kind = kind;
        this.integersAreNumbers = integersAreNumbers;
        this.nullable = nullable;
    }

    /** GGUF metadata; keys are read under {@code prefix} ({@code "olmoe."} for architecture keys, or empty). */
    static ConfigValues gguf(Path source, Map<String, Object> metadata, String prefix) {
        return new ConfigValues(source, metadata, prefix, prefix, "metadata", false, Set.of());
    }

    /** A parsed config.json, where {@code nullable} keys may be null to mean absent. */
    static ConfigValues json(Path source, Map<String, Object> json, Set<String> nullable) {
        return new ConfigValues(source, json, "", "", "field", true, nullable);
    }

    /** The object under {@code key} (as {@link #object}), read with keys named {@code key.inner} in messages. */
    ConfigValues nested(String key) {
        return nested(key, Set.of());
    }

    /** As {@link #nested(String)}, where the inner {@code nullable} keys may be null to mean absent. */
    ConfigValues nested(String key, Set<String> nullable) {
        Map<String, Object> m = object(key);
        return m == null ? null : new ConfigValues(source, m, "", name(key) + ".", kind, integersAreNumbers, nullable);
    }

    Path source() {
        return source;
    }

    /** The full key as the file spells it (for messages). */
    String name(String key) {
        return namePrefix + key;
    }

    /** How a message names a key: {@code metadata 'olmoe.block_count'}. */
    String describe(String key) {
        return kind + " '" + name(key) + "'";
    }

    Moe4jException error(String message) {
        return new Moe4jException(source + ": " + message);
    }

    Moe4jException bad(String key, String expected) {
        Object v = raw(key);
        return error(describe(key) + " is " + show(v) + "; expected " + expected);
    }

    boolean has(String key) {
        return raw(key) != null;
    }

    /** The value, or null when absent (or null where {@link #json} allows it); an explicit null elsewhere is an error. */
    Object raw(String key) {
        String full = lookupPrefix + key;
        Object v = values.get(full);
        if (v == null && values.containsKey(full) && !nullable.contains(key)) throw error(describe(key) + " is null");
        return v;
    }

    /** An integer in [min, max]. */
    int integer(String key, long min, long max) {
        Object v = raw(key);
        if (v == null) throw error(describe(key) + " is missing");
        if (!(v instanceof Long n)) throw bad(key, "an integer");
        if (n < min || n > max) throw bad(key, range(min, max));
        return (int) (long) n;
    }

    /** A positive integer (a count or a size) of at most {@link Integer#MAX_VALUE}. */
    int positive(String key) {
        return integer(key, 1, Integer.MAX_VALUE);
    }

    int positive(String key, int absent) {
        return has(key) ? positive(key) : absent;
    }

    int nonNegative(String key, int absent) {
        return has(key) ? integer(key, 0, Integer.MAX_VALUE) : absent;
    }

    /** A finite number (in config.json an integer too: {@code "rope_theta": 1000000} is common). */
    double number(String key, double absent) {
        Object v = raw(key);
        if (v == null) return absent;
        boolean typed = v instanceof Double || v instanceof Float || (integersAreNumbers && v instanceof Long);
        if (!typed || !Double.isFinite(((Number) v).doubleValue())) throw bad(key, "a finite number");
        return ((Number) v).doubleValue();
    }

    /** A finite number that must be present. */
    double number(String key) {
        if (!has(key)) throw error(describe(key) + " is missing");
        return number(key, 0);
    }

    boolean bool(String key, boolean absent) {
        Object v = raw(key);
        if (v == null) return absent;
        if (!(v instanceof Boolean b)) throw bad(key, "true or false");
        return b;
    }

    String string(String key) {
        Object v = raw(key);
        if (v == null) throw error(describe(key) + " is missing");
        if (!(v instanceof String s)) throw bad(key, "a string");
        return s;
    }

    String string(String key, String absent) {
        return has(key) ? string(key) : absent;
    }

    /** A list, or null when absent. */
    List<?> list(String key) {
        Object v = raw(key);
        if (v == null) return null;
        if (!(v instanceof List<?> l)) throw bad(key, "a list");
        return l;
    }

    /** An object (a nested map of config.json), or null when absent. */
    @SuppressWarnings("unchecked")
    Map<String, Object> object(String key) {
        Object v = raw(key);
        if (v == null) return null;
        if (!(v instanceof Map<?, ?> m)) throw bad(key, "an object");
        return (Map<String, Object>) m;
    }

    private static String range(long min, long max) {
        if (max == Integer.MAX_VALUE || max == Long.MAX_VALUE) return "an integer >= " + min;
        return "an integer in [" + min + ", " + max + "]";
    }

    static String show(Object v) {
        return switch (v) {
            case null -> "absent";
            case String s -> "the string \"" + (s.length() > 40 ? s.substring(0, 40) + "…" : s) + "\"";
            case List<?> l -> "a list of " + l.size();
            case Map<?, ?> m -> "an object";
            case Float f -> f.toString();
            default -> v.toString();
        };
    }
}
