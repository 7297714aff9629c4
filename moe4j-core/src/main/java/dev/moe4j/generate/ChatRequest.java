package dev.moe4j.generate;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a chat template is given, in the JSON-like values Jinja templates expect (String, Number, Boolean,
 * List, Map, null), as Hugging Face's {@code apply_chat_template} passes them.
 *
 * @param messages              OpenAI-style messages: {@code role}, {@code content}, and where present
 *                              {@code tool_calls} (arguments as an object), {@code tool_call_id}, {@code name},
 *                              {@code reasoning_content}
 * @param tools                 tool definitions ({@code {"type":"function","function":{...}}}), or empty
 * @param documents             retrieval documents, or empty
 * @param addGenerationPrompt   end with the header of the assistant's next turn
 * @param continueFinalMessage  end inside the final (assistant) message, so that the model continues it
 * @param extraVariables        further template variables, e.g. {@code enable_thinking} (vLLM's {@code chat_template_kwargs})
 */
public record ChatRequest(List<Map<String, Object>> messages, List<Map<String, Object>> tools, List<Map<String, Object>> documents,
                          boolean addGenerationPrompt, boolean continueFinalMessage, Map<String, Object> extraVariables) {
    public ChatRequest {
        messages = List.copyOf(messages);
        tools = tools == null ? List.of() : List.copyOf(tools);
        documents = documents == null ? List.of() : List.copyOf(documents);
        extraVariables = extraVariables == null ? Map.of() : java.util.Collections.unmodifiableMap(new LinkedHashMap<>(extraVariables));
        if (addGenerationPrompt && continueFinalMessage) {
            throw new IllegalArgumentException("add_generation_prompt and continue_final_message cannot both be true");
        }
    }

    /** A plain conversation of role/content pairs, ending with the assistant's generation prompt. */
    public static ChatRequest of(List<ChatTemplate.Message> messages) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (ChatTemplate.Message m : messages) {
            Map<String, Object> map = new LinkedHashMap<>();
            map.put("role", m.role());
            map.put("content", m.content());
            out.add(map);
        }
        return new ChatRequest(out, List.of(), List.of(), true, false, Map.of());
    }
}
