package dev.moe4j.serve;

/**
 * Tests only: the text a chat reply should be, given the rendered prompt. Reference checkpoints have random
 * weights and never write a tool call by themselves; with a script the server runs exactly as in use (template,
 * engine, a model step per token, parsing, response shapes) except that each sampled token is replaced by the
 * script's next token.
 */
@FunctionalInterface
interface ReplyScript {
    String reply(String prompt);
}
