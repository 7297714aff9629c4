package dev.moe4j.chat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.moe4j.generate.ChatTemplate;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How each template family's models write tool calls, and how to read them back:
 * <ul>
 *   <li>Qwen/Hermes (ChatML): {@code <tool_call>\n{"name": N, "arguments": {...}}\n</tool_call>}, repeated;</li>
 *   <li>DeepSeek-V3: {@code <｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>N\n```json\n{...}\n```<｜tool▁call▁end｜>...};
 *       DeepSeek-V3.1 writes {@code <｜tool▁call▁begin｜>N<｜tool▁sep｜>{...}<｜tool▁call▁end｜>};</li>
 *   <li>Mistral: {@code [TOOL_CALLS] [{"name": N, "arguments": {...}}, ...]}, or (newer tokenizers)
 *       {@code [TOOL_CALLS]N[ARGS]{...}};</li>
 *   <li>gpt-oss (harmony): a commentary message to {@code functions.N}, read by {@link HarmonyReplyParser}.</li>
 * </ul>
 * The layouts are those the families' own chat templates write for assistant tool calls in history.
 */
public final class ToolCallSyntax {
    private static final ObjectMapper JSON = new ObjectMapper();
    static final String HERMES_OPEN = "<tool_call>", HERMES_CLOSE = "</tool_call>";
    static final String DS_CALLS_BEGIN = "<｜tool▁calls▁begin｜>", DS_CALL_BEGIN = "<｜tool▁call▁begin｜>",
            DS_SEP = "<｜tool▁sep｜>", DS_CALL_END = "<｜tool▁call▁end｜>";
    static final String MISTRAL_CALLS = "[TOOL_CALLS]", MISTRAL_ARGS = "[ARGS]";

    private ToolCallSyntax() {}

    /** Text that starts the tool calls of a reply in this family; none for families without a known syntax. */
    static List<String> startMarkers(ChatTemplate family) {
        return switch (family) {
            case CHATML -> List.of(HERMES_OPEN);
            case DEEPSEEK -> List.of(DS_CALLS_BEGIN, DS_CALL_BEGIN);
            case MISTRAL_INST -> List.of(MISTRAL_CALLS);
            default -> List.of();
        };
    }

    /** The tool calls written in {@code text} (which starts at a start marker), or null when it is not a well-formed call. */
    static List<ToolCall> parse(ChatTemplate family, String text) {
        try {
            List<ToolCall> calls = switch (family) {
                case CHATML -> hermes(text);
                case DEEPSEEK -> deepSeek(text);
                case MISTRAL_INST -> mistral(text);
                default -> List.of();
            };
            return calls.isEmpty() ? null : calls;
        } catch (Exception malformed) {   // not JSON, missing name: the text is shown as content instead
            return null;
        }
    }

    private static List<ToolCall> hermes(String text) throws Exception {
        List<ToolCall> out = new ArrayList<>();
        int from = 0;
        for (int open; (open = text.indexOf(HERMES_OPEN, from)) >= 0; ) {
            int close = text.indexOf(HERMES_CLOSE, open);
            String body = text.substring(open + HERMES_OPEN.length(), close < 0 ? text.length() : close);
            out.add(fromObject(JSON.readTree(body)));
            from = close < 0 ? text.length() : close + HERMES_CLOSE.length();
        }
        return out;
    }

    private static final Pattern DS_V3_BODY = Pattern.compile("(?s)\\s*([^\\n]+)\\n```(?:json)?\\n(.*?)\\n?```\\s*");

    private static List<ToolCall> deepSeek(String text) throws Exception {
        List<ToolCall> out = new ArrayList<>();
        int from = 0;
        for (int begin; (begin = text.indexOf(DS_CALL_BEGIN, from)) >= 0; ) {
            int end = text.indexOf(DS_CALL_END, begin);
            String call = text.substring(begin + DS_CALL_BEGIN.length(), end < 0 ? text.length() : end);
            int sep = call.indexOf(DS_SEP);
            if (sep < 0) throw new IllegalArgumentException("no tool separator");
            String head = call.substring(0, sep), body = call.substring(sep + DS_SEP.length());
            Matcher v3 = DS_V3_BODY.matcher(body);
            if (v3.matches()) out.add(call(v3.group(1).strip(), JSON.readTree(v3.group(2))));   // V3: type, then name and a json block
            else out.add(call(head.strip(), JSON.readTree(body)));                              // V3.1: name, then the arguments
            from = end < 0 ? text.length() : end + DS_CALL_END.length();
        }
        return out;
    }

    private static List<ToolCall> mistral(String text) throws Exception {
        List<ToolCall> out = new ArrayList<>();
        for (String part : text.split(Pattern.quote(MISTRAL_CALLS))) {
            String p = part.strip();
            if (p.isEmpty()) continue;
            if (p.startsWith("[")) {
                for (JsonNode n : JSON.readTree(p)) out.add(fromObject(n));
            } else {
                int args = p.indexOf(MISTRAL_ARGS);
                if (args < 0) throw new IllegalArgumentException("no [ARGS]");
                out.add(call(p.substring(0, args).strip(), JSON.readTree(p.substring(args + MISTRAL_ARGS.length()))));
            }
        }
        return out;
    }

    private static ToolCall fromObject(JsonNode n) throws Exception {
        if (!n.isObject() || !n.path("name").isTextual()) throw new IllegalArgumentException("no name");
        JsonNode args = n.has("arguments") ? n.get("arguments") : n.get("parameters");
        if (args != null && args.isTextual()) args = JSON.readTree(args.asText());
        return call(n.get("name").asText(), args == null ? JSON.createObjectNode() : args);
    }

    static ToolCall call(String name, JsonNode arguments) throws Exception {
        if (name.isEmpty() || arguments == null || !arguments.isObject()) throw new IllegalArgumentException("arguments must be an object");
        return new ToolCall(newId(), name, JSON.writeValueAsString(arguments));
    }

    /** A fresh call id in OpenAI's style. */
    static String newId() {
        return "call_" + UUID.randomUUID().toString().replace("-", "").substring(0, 24);
    }

    /**
     * The text a reply must start with to call {@code function} in this family's syntax, for a named
     * {@code tool_choice} (null: any tool, as {@code required} asks); the model continues with the arguments
     * as JSON. Null when the family has no known syntax. This is the seam for constrained decoding: the
     * arguments that follow should match the function's {@code parameters} schema.
     */
    public static String forcedPrefix(ChatTemplate family, String function) {
        return switch (family) {
            case CHATML -> function == null ? HERMES_OPEN + "\n" : HERMES_OPEN + "\n{\"name\": " + quote(function) + ", \"arguments\": ";
            case DEEPSEEK -> function == null ? DS_CALLS_BEGIN + DS_CALL_BEGIN : DS_CALLS_BEGIN + DS_CALL_BEGIN + "function" + DS_SEP + function + "\n```json\n";
            case MISTRAL_INST -> function == null ? MISTRAL_CALLS : MISTRAL_CALLS + " [{\"name\": " + quote(function) + ", \"arguments\": ";
            case HARMONY -> function == null ? "<|channel|>commentary to=functions." : "<|channel|>commentary to=functions." + function + " <|constrain|>json<|message|>";
            default -> null;
        };
    }

    private static String quote(String s) {
        StringBuilder b = new StringBuilder();
        PyJson.string(b, s);
        return b.toString();
    }
}
