package dev.moe4j.serve;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import dev.moe4j.generate.ChatRequest;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The chat part of a {@code /v1/chat/completions} request, read and checked: messages with their tool calls and
 * tool results, {@code tools}, {@code tool_choice}, and vLLM's template fields {@code chat_template_kwargs},
 * {@code add_generation_prompt}, {@code continue_final_message} and {@code documents}.
 *
 * @param toolChoice        {@code auto} (default with tools), {@code none} (default without), {@code required}, or the
 *                          name of the function that must be called
 * @param parallelToolCalls false: at most one tool call is returned (the first the model wrote)
 */
record ChatFields(ChatRequest request, List<String> toolNames, String toolChoice, boolean namedToolChoice, boolean parallelToolCalls) {
    private static final TypeReference<Map<String, Object>> OBJECT = new TypeReference<>() {};

    boolean parseTools() { return !toolNames.isEmpty() && !toolChoice.equals("none"); }

    /** The function a named tool_choice forces, or null. */
    String forcedFunction() { return namedToolChoice ? toolChoice : null; }

    boolean toolRequired() { return namedToolChoice || toolChoice.equals("required"); }

    static ChatFields parse(JsonNode body) {
        JsonNode msgs = body.get("messages");
        if (msgs == null || msgs.isNull()) throw ApiException.badRequest("messages", "missing required field 'messages'");
        if (!msgs.isArray() || msgs.isEmpty()) throw ApiException.badRequest("messages", "'messages' must be a non-empty array");
        List<Map<String, Object>> messages = new ArrayList<>();
        for (int i = 0; i < msgs.size(); i++) messages.add(message(msgs.get(i), "messages[" + i + "]"));

        List<Map<String, Object>> tools = new ArrayList<>();
        List<String> names = new ArrayList<>();
        JsonNode t = body.get("tools");
        if (t != null && !t.isNull()) {
            if (!t.isArray()) throw ApiException.badRequest("tools", "'tools' must be an array");
            for (int i = 0; i < t.size(); i++) {
                String where = "tools[" + i + "]";
                JsonNode tool = t.get(i);
                if (!tool.isObject() || !"function".equals(tool.path("type").asText(null))) {
                    throw ApiException.badRequest(where, where + " must be an object with \"type\": \"function\"");
                }
                JsonNode fn = tool.get("function");
                if (fn == null || !fn.isObject()) throw ApiException.badRequest(where + ".function", "missing required field '" + where + ".function'");
                if (!fn.path("name").isTextual() || fn.get("name").asText().isBlank()) {
                    throw ApiException.badRequest(where + ".function.name", "'" + where + ".function.name' must be a non-empty string");
                }
                JsonNode params = fn.get("parameters");
                if (params != null && !params.isNull() && !params.isObject()) {
                    throw ApiException.badRequest(where + ".function.parameters", "'" + where + ".function.parameters' must be a JSON schema object");
                }
                names.add(fn.get("name").asText());
                tools.add(Json.MAPPER.convertValue(tool, OBJECT));
            }
        }

        String choice = names.isEmpty() ? "none" : "auto";
        boolean named = false;
        JsonNode tc = body.get("tool_choice");
        if (tc != null && !tc.isNull()) {
            if (tc.isTextual() && List.of("auto", "none", "required").contains(tc.asText())) {
                choice = tc.asText();
            } else if (tc.isObject() && "function".equals(tc.path("type").asText(null)) && tc.path("function").path("name").isTextual()) {
                choice = tc.get("function").get("name").asText();
                named = true;
                if (!names.contains(choice)) {
                    throw ApiException.badRequest("tool_choice", "tool_choice names function '" + choice + "', which is not in 'tools'");
                }
            } else {
                throw ApiException.badRequest("tool_choice", "'tool_choice' must be \"auto\", \"none\", \"required\" or {\"type\": \"function\", \"function\": {\"name\": ...}}");
            }
            if ((named || choice.equals("required")) && names.isEmpty()) {
                throw ApiException.badRequest("tool_choice", "tool_choice '" + choice + "' needs 'tools'");
            }
        }

        Map<String, Object> kwargs = new LinkedHashMap<>();
        JsonNode kw = body.get("chat_template_kwargs");
        if (kw != null && !kw.isNull()) {
            if (!kw.isObject()) throw ApiException.badRequest("chat_template_kwargs", "'chat_template_kwargs' must be an object");
            kwargs.putAll(Json.MAPPER.convertValue(kw, OBJECT));
            for (String reserved : List.of("messages", "tools", "documents", "add_generation_prompt", "bos_token", "eos_token")) {
                if (kwargs.containsKey(reserved)) {
                    throw ApiException.badRequest("chat_template_kwargs." + reserved, "'" + reserved + "' cannot be set through chat_template_kwargs");
                }
            }
        }
        JsonNode docs = body.get("documents");
        List<Map<String, Object>> documents = new ArrayList<>();
        if (docs != null && !docs.isNull()) {
            if (!docs.isArray()) throw ApiException.badRequest("documents", "'documents' must be an array of objects");
            for (int i = 0; i < docs.size(); i++) {
                if (!docs.get(i).isObject()) throw ApiException.badRequest("documents[" + i + "]", "documents[" + i + "] must be an object");
                documents.add(Json.MAPPER.convertValue(docs.get(i), OBJECT));
            }
        }
        boolean cont = bool(body, "continue_final_message", false);
        boolean gen = bool(body, "add_generation_prompt", !cont);
        if (cont && gen) {
            throw ApiException.badRequest("continue_final_message", "continue_final_message and add_generation_prompt cannot both be true");
        }
        if (cont && !"assistant".equals(messages.getLast().get("role"))) {
            throw ApiException.badRequest("continue_final_message", "continue_final_message needs a final assistant message to continue");
        }
        boolean parallel = bool(body, "parallel_tool_calls", true);
        return new ChatFields(new ChatRequest(messages, tools, documents, gen, cont, kwargs), List.copyOf(names), choice, named, parallel);
    }

    private static boolean bool(JsonNode body, String field, boolean dflt) {
        JsonNode v = body.get(field);
        if (v == null || v.isNull()) return dflt;
        if (!v.isBoolean()) throw ApiException.badRequest(field, "'" + field + "' must be true or false");
        return v.asBoolean();
    }

    /** One message as the template sees it: text content joined, tool-call arguments as objects (transformers' convention). */
    private static Map<String, Object> message(JsonNode m, String where) {
        if (!m.isObject()) throw ApiException.badRequest(where, where + " must be an object");
        JsonNode role = m.get("role");
        if (role == null || !role.isTextual()) throw ApiException.badRequest(where + ".role", "missing required field '" + where + ".role'");
        String r = role.asText();
        if (!List.of("system", "developer", "user", "assistant", "tool").contains(r)) {
            throw ApiException.badRequest(where + ".role", "unsupported role '" + r + "'");
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("role", r);
        JsonNode calls = m.get("tool_calls");
        boolean hasCalls = calls != null && !calls.isNull();
        JsonNode c = m.get("content");
        if (c == null || c.isNull()) {
            if (!r.equals("assistant")) throw ApiException.badRequest(where + ".content", "missing required field '" + where + ".content'");
            out.put("content", "");   // an assistant turn that only calls tools; the templates test and split its content
        } else if (c.isTextual()) {
            out.put("content", c.asText());
        } else if (c.isArray()) { // content parts: only text is understood
            StringBuilder text = new StringBuilder();
            for (JsonNode part : c) {
                if (!"text".equals(part.path("type").asText()) || !part.path("text").isTextual()) {
                    throw ApiException.badRequest(where + ".content", "only text content parts are supported");
                }
                text.append(part.get("text").asText());
            }
            out.put("content", text.toString());
        } else {
            throw ApiException.badRequest(where + ".content", where + ".content must be a string or an array of text parts");
        }
        if (hasCalls) {
            if (!r.equals("assistant")) throw ApiException.badRequest(where + ".tool_calls", "only assistant messages have tool_calls");
            if (!calls.isArray()) throw ApiException.badRequest(where + ".tool_calls", "'" + where + ".tool_calls' must be an array");
            List<Map<String, Object>> list = new ArrayList<>();
            for (int i = 0; i < calls.size(); i++) list.add(toolCall(calls.get(i), where + ".tool_calls[" + i + "]"));
            out.put("tool_calls", list);
        }
        if (r.equals("tool")) {
            JsonNode id = m.get("tool_call_id");
            if (id == null || !id.isTextual()) throw ApiException.badRequest(where + ".tool_call_id", "missing required field '" + where + ".tool_call_id'");
            out.put("tool_call_id", id.asText());
        }
        for (String opt : List.of("name", "reasoning_content")) {
            JsonNode v = m.get(opt);
            if (v == null || v.isNull()) continue;
            if (!v.isTextual()) throw ApiException.badRequest(where + "." + opt, "'" + where + "." + opt + "' must be a string");
            out.put(opt, v.asText());
        }
        return out;
    }

    private static Map<String, Object> toolCall(JsonNode call, String where) {
        JsonNode fn = call.path("function");
        if (!call.isObject() || !fn.isObject() || !fn.path("name").isTextual()) {
            throw ApiException.badRequest(where, where + " must be {\"id\", \"type\": \"function\", \"function\": {\"name\", \"arguments\"}}");
        }
        Object args;
        JsonNode a = fn.get("arguments");
        if (a == null || a.isNull()) args = new LinkedHashMap<String, Object>();
        else if (a.isObject()) args = Json.MAPPER.convertValue(a, OBJECT);
        else if (a.isTextual()) {
            try {   // OpenAI sends the arguments as JSON text; templates expect the object (as vLLM passes them)
                JsonNode parsed = Json.MAPPER.readTree(a.asText());
                if (!parsed.isObject()) throw new IllegalArgumentException();
                args = Json.MAPPER.convertValue(parsed, OBJECT);
            } catch (Exception e) {
                throw ApiException.badRequest(where + ".function.arguments", "'" + where + ".function.arguments' is not a JSON object");
            }
        } else {
            throw ApiException.badRequest(where + ".function.arguments", "'" + where + ".function.arguments' must be a JSON object or its text");
        }
        Map<String, Object> function = new LinkedHashMap<>();
        function.put("name", fn.get("name").asText());
        function.put("arguments", args);
        Map<String, Object> out = new LinkedHashMap<>();
        if (call.path("id").isTextual()) out.put("id", call.get("id").asText());
        out.put("type", "function");
        out.put("function", function);
        return out;
    }
}
