package dev.moe4j.serve;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.Iterator;
import java.util.Set;

/**
 * Which top-level request fields the server takes, per endpoint, so that none is silently ignored (issue 13).
 * Fields are in four groups: those moe4j implements; harmless ones accepted without effect (they do not change the
 * output: {@code user}, {@code store}, {@code metadata}, ...); tool-calling fields handled with the chat template
 * ({@code tools}, {@code tool_choice}, ...); and the rest of OpenAI's fields, which change the output and are not
 * implemented, so get a 400 naming them, as does a field OpenAI does not know.
 */
final class RequestFields {
    private static final Set<String> CHAT_IMPLEMENTED = Set.of("model", "messages", "max_tokens", "max_completion_tokens",
            "temperature", "top_p", "n", "stream", "stream_options", "stop", "seed", "response_format", "logprobs",
            "top_logprobs", "presence_penalty", "frequency_penalty", "logit_bias", "top_k", "min_p", "repetition_penalty");
    private static final Set<String> COMPLETION_IMPLEMENTED = Set.of("model", "prompt", "max_tokens", "temperature", "top_p",
            "n", "stream", "stream_options", "stop", "seed", "logprobs", "presence_penalty", "frequency_penalty", "logit_bias",
            "response_format", "top_k", "min_p", "repetition_penalty");
    /** No effect on what is generated: identification, storage and routing hints. */
    private static final Set<String> HARMLESS = Set.of("user", "store", "metadata", "service_tier", "prompt_cache_key",
            "safety_identifier", "parallel_tool_calls");
    /** Tool calling, with the chat template (functions/function_call: the deprecated forms). */
    private static final Set<String> TOOLS = Set.of("tools", "tool_choice", "functions", "function_call");
    /** Chat template inputs, as vLLM takes them (ChatFields reads and checks them). */
    private static final Set<String> TEMPLATE = Set.of("chat_template_kwargs", "add_generation_prompt",
            "continue_final_message", "documents");

    private RequestFields() {}

    /** Fails with 400 naming the first field the chat endpoint does not take. */
    static void checkChat(JsonNode body) {
        check(body, CHAT_IMPLEMENTED, true);
    }

    /** Fails with 400 naming the first field the completions endpoint does not take. */
    static void checkCompletion(JsonNode body) {
        check(body, COMPLETION_IMPLEMENTED, false);
    }

    private static void check(JsonNode body, Set<String> implemented, boolean chat) {
        for (Iterator<String> it = body.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (implemented.contains(f) || HARMLESS.contains(f) || (chat && (TOOLS.contains(f) || TEMPLATE.contains(f)))) continue;
            JsonNode v = body.get(f);
            if (neutral(f, v, body)) continue;
            throw ApiException.badRequest(f, switch (f) {
                case "audio", "modalities" -> "'" + f + "' is not supported: moe4j generates text only";
                case "prediction" -> "'prediction' (predicted outputs) is not supported";
                case "reasoning_effort", "verbosity" -> "'" + f + "' is not supported by this server";
                case "web_search_options" -> "'web_search_options' is not supported: the server has no web search";
                case "echo", "suffix", "best_of" -> "'" + f + "' is not supported with this value: " + v;
                default -> "unrecognized request field '" + f + "'";
            });
        }
    }

    /** Values of unimplemented fields that ask for exactly what the server does anyway. */
    private static boolean neutral(String field, JsonNode v, JsonNode body) {
        if (v == null || v.isNull()) return true;
        return switch (field) {
            case "modalities" -> v.isArray() && v.size() == 1 && "text".equals(v.get(0).asText());
            case "echo" -> v.isBoolean() && !v.asBoolean();
            case "suffix" -> v.isTextual() && v.asText().isEmpty();
            case "best_of" -> v.isIntegralNumber() && v.asInt() == (body.hasNonNull("n") ? body.get("n").asInt() : 1);
            default -> false;
        };
    }
}
