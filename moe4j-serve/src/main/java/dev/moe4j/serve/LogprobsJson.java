package dev.moe4j.serve;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.moe4j.tokenizer.Tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Token log-probabilities in OpenAI's two response shapes. Chat: {@code logprobs.content[]} of
 * {@code {token, logprob, bytes, top_logprobs: [{token, logprob, bytes}]}}. Completions (legacy):
 * {@code logprobs: {tokens, token_logprobs, top_logprobs: [{token: logprob}], text_offset}}. A token's text is
 * its bytes decoded as UTF-8 (a piece of a character shows as U+FFFD; {@code bytes} has it exactly). In the legacy
 * form the alternatives are a map from text to logprob, so of two alternatives with one text only the likelier shows.
 */
final class LogprobsJson {
    private final Tokenizer tokenizer;

    LogprobsJson(Tokenizer tokenizer) {
        this.tokenizer = tokenizer;
    }

    /** A chat choice's (or chunk's) {@code logprobs} object for these tokens. */
    ObjectNode chat(List<Sequence.TokenLogprob> tokens) {
        ObjectNode root = Json.object();
        ArrayNode content = root.putArray("content");
        for (Sequence.TokenLogprob t : tokens) {
            ObjectNode entry = entry(t.token(), t.logprob());
            ArrayNode top = entry.putArray("top_logprobs");
            for (int i = 0; i < t.topIds().length; i++) top.add(entry(t.topIds()[i], t.topLogprobs()[i]));
            content.add(entry);
        }
        root.putNull("refusal");
        return root;
    }

    /** A text completion choice's (or chunk's) legacy {@code logprobs} object; offsets count from {@code textOffset}. */
    ObjectNode completion(List<Sequence.TokenLogprob> tokens, int textOffset) {
        ObjectNode root = Json.object();
        ArrayNode texts = root.putArray("tokens"), values = root.putArray("token_logprobs");
        ArrayNode tops = root.putArray("top_logprobs"), offsets = root.putArray("text_offset");
        int offset = textOffset;
        for (Sequence.TokenLogprob t : tokens) {
            String text = text(t.token());
            texts.add(text);
            values.add(t.logprob());
            ObjectNode top = Json.object();
            for (int i = 0; i < t.topIds().length; i++) {
                String key = text(t.topIds()[i]);
                if (!top.has(key)) top.put(key, t.topLogprobs()[i]);   // two tokens may share a text: keep the likelier
            }
            tops.add(top);
            offsets.add(offset);
            offset += text.length();
        }
        return root;
    }

    /** Characters the tokens' texts add up to, for the next chunk's text offsets. */
    int length(List<Sequence.TokenLogprob> tokens) {
        int n = 0;
        for (Sequence.TokenLogprob t : tokens) n += text(t.token()).length();
        return n;
    }

    private ObjectNode entry(int token, double logprob) {
        byte[] bytes = tokenizer.tokenBytes(token);
        ObjectNode e = Json.object();
        e.put("token", new String(bytes, StandardCharsets.UTF_8));
        e.put("logprob", logprob);
        ArrayNode b = e.putArray("bytes");
        for (byte x : bytes) b.add(x & 0xFF);
        return e;
    }

    private String text(int token) {
        return new String(tokenizer.tokenBytes(token), StandardCharsets.UTF_8);
    }
}
