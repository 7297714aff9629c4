package dev.moe4j.constrain;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static dev.moe4j.constrain.Grammar.Builder.seq;

/**
 * Compiles a JSON schema (the subset below) into a {@link Grammar} whose texts are exactly JSON values that
 * validate against it, in the spirit of llama.cpp's {@code json-schema-to-grammar} and of outlines/xgrammar.
 * Schemas are values as {@link dev.moe4j.util.Json#parse} returns them.
 *
 * <p>Supported: {@code type} (one or a list of string, number, integer, boolean, null, object, array);
 * {@code enum}, {@code const}; strings with {@code minLength}, {@code maxLength} (≤ {@value #MAX_BOUND}) and
 * {@code pattern} (a regular-expression subset, {@link RegexRules}); integers with {@code minimum},
 * {@code maximum}, {@code exclusiveMinimum}, {@code exclusiveMaximum}; numbers with {@code minimum: 0};
 * objects with {@code properties} (written in the order given; required ones always, optional ones may be left
 * out), {@code required}, {@code additionalProperties} ({@code false}; {@code true} or absent: valid, though no
 * extra property is generated; a schema on an object without {@code properties}: a map of such values); arrays
 * with {@code items}, {@code minItems}, {@code maxItems} (≤ {@value #MAX_BOUND}); {@code anyOf}, {@code oneOf}
 * (generated as anyOf: its branches should not overlap), {@code allOf} of one schema; {@code $ref} to a JSON
 * pointer in the same document ({@code #}, {@code #/$defs/Name}, {@code #/definitions/Name}; recursion is fine);
 * {@code true} and {@code {}} (any JSON value). Annotations are accepted and have no effect: {@code title},
 * {@code description}, {@code default}, {@code examples}, {@code $schema}, {@code $id}, {@code $comment},
 * {@code deprecated}, {@code readOnly}, {@code writeOnly}, {@code $defs}, {@code definitions}. Every other keyword is
 * refused with a {@link SchemaException} naming it: never silently ignored.
 *
 * <p>The sequence form ({@link #sequence}) is for tool calling: forced text, then a JSON value of a schema, then
 * forced text, e.g. {@code sequence(List.of(new Text("<tool_call>\n{\"name\": \"get_weather\", \"arguments\": "),
 * new Value(argumentsSchema), new Text("}\n</tool_call>")))} forces a call of one named function with valid
 * arguments ({@code tool_choice} naming a function); a {@link Part.Choice} of several such sequences lets the
 * model pick one of several functions ({@code tool_choice: "required"}). Use the grammar with
 * {@link TokenConstraint}; it is finished when the last forced text is complete.
 */
public final class JsonSchemaGrammar {
    /** Largest maxLength / maxItems / repetition bound compiled (each bound unrolls into that many rules). */
    public static final int MAX_BOUND = 4096;
    private static final int MAX_DEPTH = 64;
    private static final Set<String> ANNOTATIONS = Set.of("title", "description", "default", "examples", "$schema", "$id",
            "$comment", "deprecated", "readOnly", "writeOnly", "$defs", "definitions");
    private static final Set<String> COMMON = Set.of("type", "enum", "const", "anyOf", "oneOf", "allOf", "$ref");
    private static final Map<String, Set<String>> TYPE_KEYWORDS = Map.of(
            "string", Set.of("minLength", "maxLength", "pattern"),
            "integer", Set.of("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"),
            "number", Set.of("minimum"),
            "object", Set.of("properties", "required", "additionalProperties"),
            "array", Set.of("items", "minItems", "maxItems"),
            "boolean", Set.of(),
            "null", Set.of());

    /** One part of a {@link #sequence}. */
    public sealed interface Part {
        /** Text that is forced, byte for byte. */
        record Text(String text) implements Part {}
        /** A JSON value valid against {@code schema} (a parsed JSON schema), with no whitespace around it. */
        record Value(Object schema) implements Part {}
        /** One of several part sequences, the model's choice (e.g. one per function). */
        record Choice(List<List<Part>> options) implements Part {}
    }

    private final Grammar.Builder b = new Grammar.Builder();
    private final JsonRules json = new JsonRules(b);
    private Object root;
    private final Map<String, Integer> refs = new HashMap<>();

    private JsonSchemaGrammar() {}

    /**
     * The grammar of JSON values valid against {@code schema}.
     *
     * @throws SchemaException naming the keyword and where it is, for anything outside the supported subset
     */
    public static Grammar schema(Object schema) {
        JsonSchemaGrammar c = new JsonSchemaGrammar();
        c.root = schema;
        int top = c.b.rule("root");
        c.b.alt(top, c.value(schema, "", 0));
        return c.b.build(top);
    }

    /** Any JSON object ({@code response_format: json_object}). */
    public static Grammar anyObject() {
        JsonSchemaGrammar c = new JsonSchemaGrammar();
        int top = c.b.rule("root");
        c.b.alt(top, c.json.anyObject);
        return c.b.build(top);
    }

    /**
     * The grammar of {@code parts} one after the other (see the class comment). Schemas of different {@link Part.Value}s
     * resolve their {@code $ref}s each against itself.
     *
     * @throws SchemaException as {@link #schema} does, for any of the schemas
     */
    public static Grammar sequence(List<Part> parts) {
        JsonSchemaGrammar c = new JsonSchemaGrammar();
        int top = c.b.rule("root");
        c.b.alt(top, c.parts(parts, "", 0));
        return c.b.build(top);
    }

    private int[] parts(List<Part> parts, String path, int depth) {
        int[] out = new int[0];
        for (int i = 0; i < parts.size(); i++) {
            switch (parts.get(i)) {
                case Part.Text t -> out = seq(out, b.text(t.text()));
                case Part.Value v -> {
                    refs.clear();   // each schema is its own document
                    root = v.schema();
                    out = seq(out, value(v.schema(), path, 0));
                }
                case Part.Choice ch -> {
                    if (ch.options().isEmpty()) throw new SchemaException(path, "", "a choice needs at least one option");
                    int[][] alts = new int[ch.options().size()][];
                    for (int k = 0; k < alts.length; k++) alts[k] = parts(ch.options().get(k), path, depth + 1);
                    out = seq(out, b.choice("choice", alts));
                }
            }
        }
        return out;
    }

    /** A reference element for the values valid against {@code schema} found at {@code path}. */
    private int value(Object schema, String path, int depth) {
        if (depth > MAX_DEPTH) throw new SchemaException(path, "", "nests deeper than " + MAX_DEPTH + " levels");
        if (Boolean.TRUE.equals(schema)) return json.value;
        if (Boolean.FALSE.equals(schema)) throw new SchemaException(path, "false", "the schema 'false' accepts no value");
        if (!(schema instanceof Map<?, ?> raw)) throw new SchemaException(path, "", "a schema must be an object or a boolean, got " + JsonRules.literal(schema));
        @SuppressWarnings("unchecked") Map<String, Object> s = (Map<String, Object>) raw;

        if (s.containsKey("$ref")) {
            only(s, path, "$ref");
            return ref(s.get("$ref"), path, depth);
        }
        if (s.containsKey("allOf")) {
            only(s, path, "allOf");
            List<?> all = list(s.get("allOf"), path, "allOf");
            if (all.size() != 1) throw new SchemaException(path, "allOf", "'allOf' is supported with exactly one schema, got " + all.size());
            return value(all.get(0), path + "/allOf/0", depth + 1);
        }
        for (String k : List.of("anyOf", "oneOf")) {
            if (!s.containsKey(k)) continue;
            only(s, path, k);
            List<?> options = list(s.get(k), path, k);
            if (options.isEmpty()) throw new SchemaException(path, k, "'" + k + "' needs at least one schema");
            int[][] alts = new int[options.size()][];
            for (int i = 0; i < alts.length; i++) alts[i] = new int[]{value(options.get(i), path + "/" + k + "/" + i, depth + 1)};
            return b.choice(k, alts);
        }
        List<String> types = types(s, path);
        checkKeywords(s, path, types);
        if (s.containsKey("const")) return literal(s.get("const"));
        if (s.containsKey("enum")) {
            List<?> values = list(s.get("enum"), path, "enum");
            if (values.isEmpty()) throw new SchemaException(path, "enum", "'enum' needs at least one value");
            int[][] alts = new int[values.size()][];
            for (int i = 0; i < alts.length; i++) alts[i] = new int[]{literal(values.get(i))};
            return b.choice("enum", alts);
        }
        if (types == null) return json.value;
        int[][] alts = new int[types.size()][];
        for (int i = 0; i < alts.length; i++) alts[i] = new int[]{typed(types.get(i), s, path, depth)};
        return alts.length == 1 ? alts[0][0] : b.choice("types", alts);
    }

    private int typed(String type, Map<String, Object> s, String path, int depth) {
        return switch (type) {
            case "string" -> string(s, path);
            case "integer" -> integer(s, path);
            case "number" -> number(s, path);
            case "boolean" -> b.choice("boolean", b.text("true"), b.text("false"));
            case "null" -> b.choice("null", b.text("null"));
            case "object" -> object(s, path, depth);
            case "array" -> array(s, path, depth);
            default -> throw new IllegalStateException(type);
        };
    }

    private int string(Map<String, Object> s, String path) {
        int min = bound(s, "minLength", path, 0), max = bound(s, "maxLength", path, -1);
        if (max >= 0 && min > max) throw new SchemaException(path, "minLength", "'minLength' " + min + " is above 'maxLength' " + max);
        if (s.containsKey("pattern")) {
            if (s.containsKey("minLength") || s.containsKey("maxLength")) {
                throw new SchemaException(path, "pattern", "'pattern' together with 'minLength'/'maxLength' is not supported");
            }
            if (!(s.get("pattern") instanceof String p)) throw new SchemaException(path, "pattern", "'pattern' must be a string");
            return new RegexRules(b, json, path).string(p);
        }
        return min == 0 && max < 0 ? json.string : json.string(min, max);
    }

    private int integer(Map<String, Object> s, String path) {
        long lo = -JsonRules.MAX_INTEGER, hi = JsonRules.MAX_INTEGER;
        if (s.containsKey("minimum")) lo = Math.max(lo, (long) Math.ceil(numberOf(s, "minimum", path)));
        if (s.containsKey("exclusiveMinimum")) lo = Math.max(lo, (long) Math.floor(numberOf(s, "exclusiveMinimum", path)) + 1);
        if (s.containsKey("maximum")) hi = Math.min(hi, (long) Math.floor(numberOf(s, "maximum", path)));
        if (s.containsKey("exclusiveMaximum")) hi = Math.min(hi, (long) Math.ceil(numberOf(s, "exclusiveMaximum", path)) - 1);
        if (lo > hi) throw new SchemaException(path, "minimum", "no integer lies within the bounds given (" + lo + " > " + hi + ")");
        if (lo == -JsonRules.MAX_INTEGER && hi == JsonRules.MAX_INTEGER) return json.integer;
        return json.integerRange(lo, hi);
    }

    private int number(Map<String, Object> s, String path) {
        if (!s.containsKey("minimum")) return json.number;
        if (numberOf(s, "minimum", path) != 0) {
            throw new SchemaException(path, "minimum", "'minimum' on a number is supported only as 0 (on integers, any bound is)");
        }
        int digits = b.set('0', '9');
        int natural = b.choice("natural", b.text("0"), seq(b.set('1', '9'), b.repeat("digits", new int[]{digits}, 0, JsonRules.MAX_DIGITS - 1)));
        int fraction = b.repeat("fraction", seq(b.text("."), b.repeat("fraction.digits", new int[]{digits}, 1, JsonRules.MAX_DIGITS)), 0, 1);
        return b.choice("nonnegative", seq(natural, fraction));
    }

    private int object(Map<String, Object> s, String path, int depth) {
        Map<String, Object> props = new LinkedHashMap<>();
        if (s.containsKey("properties")) {
            if (!(s.get("properties") instanceof Map<?, ?> m)) throw new SchemaException(path, "properties", "'properties' must be an object");
            for (Map.Entry<?, ?> e : m.entrySet()) props.put((String) e.getKey(), e.getValue());
        }
        List<String> required = new ArrayList<>();
        if (s.containsKey("required")) {
            for (Object r : list(s.get("required"), path, "required")) {
                if (!(r instanceof String name)) throw new SchemaException(path, "required", "'required' must list property names");
                if (!props.containsKey(name)) {
                    throw new SchemaException(path, "required", "required property '" + name + "' is not in 'properties'");
                }
                required.add(name);
            }
        }
        Object extra = s.get("additionalProperties");
        if (extra != null && !(extra instanceof Boolean) && !(extra instanceof Map)) {
            throw new SchemaException(path, "additionalProperties", "'additionalProperties' must be a boolean or a schema");
        }
        int open = b.set('{', '{'), close = b.set('}', '}');
        if (props.isEmpty() && extra instanceof Map) { // a map: any keys, values of one schema
            int member = b.choice("entry", seq(json.string, json.ws, b.text(":"), json.ws, value(extra, path + "/additionalProperties", depth + 1)));
            return b.choice("map", seq(open, json.ws, b.separated("entries", new int[]{member}, new int[]{json.separator}, 0, -1), json.ws, close));
        }
        List<int[]> members = new ArrayList<>();
        List<Boolean> isRequired = new ArrayList<>();
        for (Map.Entry<String, Object> e : props.entrySet()) {
            StringBuilder key = new StringBuilder();
            JsonRules.quote(e.getKey(), key);
            int v = value(e.getValue(), path + "/properties/" + pointerEscape(e.getKey()), depth + 1);
            members.add(seq(b.text(key.toString()), json.ws, b.text(":"), json.ws, v));
            isRequired.add(required.contains(e.getKey()));
        }
        // Members in order; optional ones may be skipped. after(i) = the rest from member i on, after at least one
        // member was written (each written member is preceded by a comma); first(i) = the same before any.
        int n = members.size();
        int[] after = new int[n + 1], first = new int[n + 1];
        after[n] = b.choice("end", new int[0]);
        first[n] = after[n];
        for (int i = n - 1; i >= 0; i--) {
            int[] withComma = seq(json.separator, members.get(i), after[i + 1]);
            int[] asFirst = seq(members.get(i), after[i + 1]);
            after[i] = isRequired.get(i) ? b.choice("after", withComma) : b.choice("after", withComma, new int[]{after[i + 1]});
            first[i] = isRequired.get(i) ? b.choice("first", asFirst) : b.choice("first", asFirst, new int[]{first[i + 1]});
        }
        return b.choice("object", seq(open, json.ws, first[0], json.ws, close));
    }

    private int array(Map<String, Object> s, String path, int depth) {
        int min = bound(s, "minItems", path, 0), max = bound(s, "maxItems", path, -1);
        if (max >= 0 && min > max) throw new SchemaException(path, "minItems", "'minItems' " + min + " is above 'maxItems' " + max);
        int item = s.containsKey("items") ? value(s.get("items"), path + "/items", depth + 1) : json.value;
        return b.choice("array", seq(b.text("["), json.ws, b.separated("items", new int[]{item}, new int[]{json.separator}, min, max),
                json.ws, b.text("]")));
    }

    private int ref(Object target, String path, int depth) {
        if (!(target instanceof String ref)) throw new SchemaException(path, "$ref", "'$ref' must be a string");
        Integer known = refs.get(ref);
        if (known != null) return b.ref(known);
        if (!ref.equals("#") && !ref.startsWith("#/")) {
            throw new SchemaException(path, "$ref", "'$ref' " + ref + " is not supported: only references within the schema (#/...)");
        }
        Object node = root;
        if (ref.length() > 2) {
            for (String token : ref.substring(2).split("/", -1)) {
                String key = token.replace("~1", "/").replace("~0", "~");
                if (node instanceof Map<?, ?> m && m.containsKey(key)) node = m.get(key);
                else if (node instanceof List<?> l && key.matches("\\d+") && Integer.parseInt(key) < l.size()) node = l.get(Integer.parseInt(key));
                else throw new SchemaException(path, "$ref", "'$ref' " + ref + " does not resolve");
            }
        }
        int rule = b.rule(ref);
        refs.put(ref, rule);   // before the body, so the schema may refer to itself
        b.alt(rule, value(node, ref.substring(1), depth + 1));
        return b.ref(rule);
    }

    private int literal(Object v) {
        return b.choice("literal", b.bytes(JsonRules.literal(v).getBytes(StandardCharsets.UTF_8)));
    }

    /** The types a schema allows; null when it says none (any, unless enum/const decide). */
    private static List<String> types(Map<String, Object> s, String path) {
        Object t = s.get("type");
        List<String> types = new ArrayList<>();
        if (t == null) {
            // No type: infer it from type-specific keywords, as validators apply them only to that type.
            for (Map.Entry<String, Set<String>> e : TYPE_KEYWORDS.entrySet()) {
                for (String k : e.getValue()) if (s.containsKey(k) && !types.contains(e.getKey())) types.add(e.getKey());
            }
            if (types.size() > 1) {
                throw new SchemaException(path, "type", "keywords of several types without 'type': give 'type' explicitly");
            }
            return types.isEmpty() ? null : types;
        }
        for (Object o : t instanceof List<?> l ? l : List.of(t)) {
            if (!(o instanceof String name) || !TYPE_KEYWORDS.containsKey(name)) {
                throw new SchemaException(path, "type", "unknown type " + JsonRules.literal(o));
            }
            if (!types.contains(name)) types.add(name);
        }
        if (types.isEmpty()) throw new SchemaException(path, "type", "'type' lists no type");
        return types;
    }

    private static void checkKeywords(Map<String, Object> s, String path, List<String> types) {
        for (String k : s.keySet()) {
            if (ANNOTATIONS.contains(k) || COMMON.contains(k)) continue;
            boolean applies = false;
            for (String t : types == null ? List.<String>of() : types) applies |= TYPE_KEYWORDS.get(t).contains(k);
            if (!applies) throw new SchemaException(path, k, "keyword '" + k + "' is not supported" + (types == null ? "" : " for type " + String.join("/", types)));
        }
    }

    /** Fails when {@code s} has keywords besides {@code keyword} and annotations (they would be combined with it). */
    private static void only(Map<String, Object> s, String path, String keyword) {
        for (String k : s.keySet()) {
            if (!k.equals(keyword) && !ANNOTATIONS.contains(k)) {
                throw new SchemaException(path, k, "keyword '" + k + "' next to '" + keyword + "' is not supported");
            }
        }
    }

    private static List<?> list(Object v, String path, String keyword) {
        if (v instanceof List<?> l) return l;
        throw new SchemaException(path, keyword, "'" + keyword + "' must be an array");
    }

    private static int bound(Map<String, Object> s, String keyword, String path, int dflt) {
        if (!s.containsKey(keyword)) return dflt;
        if (!(s.get(keyword) instanceof Long v) || v < 0) throw new SchemaException(path, keyword, "'" + keyword + "' must be a non-negative integer");
        if (v > MAX_BOUND) throw new SchemaException(path, keyword, "'" + keyword + "' " + v + " is above the largest supported, " + MAX_BOUND);
        return (int) (long) v;
    }

    private static double numberOf(Map<String, Object> s, String keyword, String path) {
        if (!(s.get(keyword) instanceof Number n)) throw new SchemaException(path, keyword, "'" + keyword + "' must be a number");
        return n.doubleValue();
    }

    private static String pointerEscape(String key) {
        return key.replace("~", "~0").replace("/", "~1");
    }
}
