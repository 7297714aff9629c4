package dev.moe4j.model.mutation;

import java.util.List;
import java.util.Map;

/** Writes the values {@link dev.moe4j.util.Json} reads back as JSON text; {@link Raw} text goes in verbatim. */
final class JsonText {
    private JsonText() {}

    /** JSON text that no value of ours writes, such as {@code 1e400} (which reads as infinity). */
    record Raw(String text) {
        @Override
        public String toString() {
            return text;
        }
    }

    static String write(Object v) {
        StringBuilder b = new StringBuilder();
        write(v, b);
        return b.toString();
    }

    private static void write(Object v, StringBuilder b) {
        switch (v) {
            case null -> b.append("null");
            case String s -> string(s, b);
            case Map<?, ?> m -> {
                b.append('{');
                boolean first = true;
                for (var e : m.entrySet()) {
                    if (!first) b.append(',');
                    first = false;
                    string((String) e.getKey(), b);
                    b.append(':');
                    write(e.getValue(), b);
                }
                b.append('}');
            }
            case List<?> l -> {
                b.append('[');
                for (int i = 0; i < l.size(); i++) {
                    if (i > 0) b.append(',');
                    write(l.get(i), b);
                }
                b.append(']');
            }
            default -> b.append(v);   // Long, Double, Boolean, Raw
        }
    }

    private static void string(String s, StringBuilder b) {
        b.append('"');
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') b.append('\\').append(c);
            else if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
            else b.append(c);
        }
        b.append('"');
    }
}
