package dev.moe4j.chat;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * JSON text as Python's {@code json.dumps(x, ensure_ascii=False, indent=..., separators=..., sort_keys=...)} writes
 * it, which is what transformers' {@code tojson} filter calls: {@code ", "} and {@code ": "} between items
 * ({@code ","} at line ends when indenting), non-ASCII characters as they are, floats as Python's repr.
 */
final class PyJson {
    private final String indent;          // null: one line
    private final String itemSeparator, keySeparator;
    private final boolean sortKeys;

    PyJson(Integer indent, String itemSeparator, String keySeparator, boolean sortKeys) {
        this.indent = indent == null ? null : " ".repeat(Math.max(0, indent));
        this.itemSeparator = itemSeparator != null ? itemSeparator : indent == null ? ", " : ",";
        this.keySeparator = keySeparator != null ? keySeparator : ": ";
        this.sortKeys = sortKeys;
    }

    static String dumps(Object value) {
        return new PyJson(null, null, null, false).write(value);
    }

    String write(Object value) {
        StringBuilder b = new StringBuilder();
        write(b, value, 0);
        return b.toString();
    }

    private void write(StringBuilder b, Object v, int depth) {
        switch (v) {
            case null -> b.append("null");
            case Boolean x -> b.append(x ? "true" : "false");
            case Double d -> b.append(PyRepr.floatRepr(d));
            case Float f -> b.append(PyRepr.floatRepr(f.doubleValue()));
            case java.math.BigDecimal d -> b.append(PyRepr.floatRepr(d.doubleValue()));
            case Number n -> b.append(n.toString());
            case Map<?, ?> m -> {
                List<Map.Entry<?, ?>> entries = new ArrayList<>(m.entrySet());
                if (sortKeys) entries.sort((x, y) -> String.valueOf(x.getKey()).compareTo(String.valueOf(y.getKey())));
                if (entries.isEmpty()) { b.append("{}"); return; }
                b.append('{');
                for (int i = 0; i < entries.size(); i++) {
                    if (i > 0) b.append(itemSeparator);
                    newline(b, depth + 1);
                    string(b, String.valueOf(entries.get(i).getKey()));
                    b.append(keySeparator);
                    write(b, entries.get(i).getValue(), depth + 1);
                }
                newline(b, depth);
                b.append('}');
            }
            case Collection<?> c -> sequence(b, List.copyOf(c.stream().map(x -> x == null ? NULL : x).toList()), depth);
            case Object[] a -> sequence(b, java.util.Arrays.stream(a).map(x -> x == null ? NULL : x).toList(), depth);
            default -> string(b, v.toString());   // strings, and Jinjava's SafeString
        }
    }

    private static final Object NULL = new Object() { @Override public String toString() { return "null"; } };

    private void sequence(StringBuilder b, List<?> items, int depth) {
        if (items.isEmpty()) { b.append("[]"); return; }
        b.append('[');
        for (int i = 0; i < items.size(); i++) {
            if (i > 0) b.append(itemSeparator);
            newline(b, depth + 1);
            Object x = items.get(i);
            if (x == NULL) b.append("null"); else write(b, x, depth + 1);
        }
        newline(b, depth);
        b.append(']');
    }

    private void newline(StringBuilder b, int depth) {
        if (indent != null) b.append('\n').append(indent.repeat(depth));
    }

    /** A JSON string with Python's escapes: quotes, backslash, \n \r \t \b \f, other controls as backslash-u00XX. */
    static void string(StringBuilder b, String s) {
        b.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                case '\b' -> b.append("\\b");
                case '\f' -> b.append("\\f");
                default -> {
                    if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
                    else b.append(c);
                }
            }
        }
        b.append('"');
    }
}
