package dev.moe4j.chat;

/**
 * One function call the model asked for.
 *
 * @param id        the call's id, as OpenAI clients echo it in the {@code tool} message that answers it
 * @param name      the function's name
 * @param arguments the arguments as JSON text (an object), as OpenAI's {@code function.arguments} carries them
 */
public record ToolCall(String id, String name, String arguments) {}
