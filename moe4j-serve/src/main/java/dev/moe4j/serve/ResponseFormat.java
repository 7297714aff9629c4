package dev.moe4j.serve;

import com.fasterxml.jackson.databind.JsonNode;
import dev.moe4j.constrain.Grammar;
import dev.moe4j.constrain.JsonSchemaGrammar;

import java.util.Iterator;
import java.util.Set;

/**
 * OpenAI's {@code response_format}: {@code {"type":"text"}} (no constraint), {@code {"type":"json_object"}} (any JSON
 * object) or {@code {"type":"json_schema","json_schema":{"name","description","schema","strict"}}} (a value valid
 * against the schema). Both JSON forms are enforced by constrained decoding, {@code strict} true or not. The
 * schema is compiled when the request is read, so an unsupported keyword is a 400 naming it and its place, e.g.
 * {@code response_format.json_schema.schema/properties/age: keyword 'multipleOf' is not supported}.
 *
 * @param grammar null for {@code text} (or no response_format)
 */
record ResponseFormat(String type, Grammar grammar) {
    static final ResponseFormat TEXT = new ResponseFormat("text", null);
    private static final Set<String> SCHEMA_FIELDS = Set.of("name", "description", "schema", "strict");
    private static final String SCHEMA_PARAM = "response_format.json_schema.schema";

    static ResponseFormat read(JsonNode f) {
        if (f == null || f.isNull()) return TEXT;
        if (!f.isObject()) throw ApiException.badRequest("response_format", "'response_format' must be an object");
        JsonNode type = f.get("type");
        if (type == null || !type.isTextual()) throw ApiException.badRequest("response_format.type", "missing required field 'response_format.type'");
        onlyFields(f, Set.of("type", "json_schema"), "response_format");
        return switch (type.asText()) {
            case "text" -> TEXT;
            case "json_object" -> new ResponseFormat("json_object", JsonSchemaGrammar.anyObject());
            case "json_schema" -> jsonSchema(f.get("json_schema"));
            default -> throw ApiException.badRequest("response_format.type",
                    "'response_format.type' must be 'text', 'json_object' or 'json_schema', got '" + type.asText() + "'");
        };
    }

    private static ResponseFormat jsonSchema(JsonNode js) {
        if (js == null || js.isNull()) throw ApiException.badRequest("response_format.json_schema", "missing required field 'response_format.json_schema'");
        if (!js.isObject()) throw ApiException.badRequest("response_format.json_schema", "'response_format.json_schema' must be an object");
        onlyFields(js, SCHEMA_FIELDS, "response_format.json_schema");
        JsonNode name = js.get("name");
        if (name == null || !name.isTextual() || !name.asText().matches("[A-Za-z0-9_-]{1,64}")) {
            throw ApiException.badRequest("response_format.json_schema.name",
                    "'response_format.json_schema.name' must be 1 to 64 letters, digits, '_' or '-'");
        }
        JsonNode strict = js.get("strict");
        if (strict != null && !strict.isNull() && !strict.isBoolean()) {
            throw ApiException.badRequest("response_format.json_schema.strict", "'response_format.json_schema.strict' must be true or false");
        }
        JsonNode schema = js.get("schema");
        if (schema == null || schema.isNull()) return new ResponseFormat("json_schema", JsonSchemaGrammar.schema(Boolean.TRUE));
        if (!schema.isObject() && !schema.isBoolean()) throw ApiException.badRequest(SCHEMA_PARAM, "'" + SCHEMA_PARAM + "' must be an object");
        try {
            return new ResponseFormat("json_schema", JsonSchemaGrammar.schema(dev.moe4j.util.Json.parse(Json.write(schema))));
        } catch (IllegalArgumentException e) {   // a SchemaException, or nesting deeper than core's JSON reader takes
            throw ApiException.badRequest(SCHEMA_PARAM, "'" + SCHEMA_PARAM + "' cannot be enforced: " + e.getMessage());
        }
    }

    private static void onlyFields(JsonNode o, Set<String> known, String where) {
        for (Iterator<String> it = o.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!known.contains(k)) throw ApiException.badRequest(where + "." + k, "unknown field '" + where + "." + k + "'");
        }
    }
}
