package dev.moe4j.cli;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** `chat` keeps going when the conversation outgrows the context: it drops the oldest turns and says so. */
class ChatContextTest {

    @Test
    void conversationLongerThanTheContextDropsOldestTurns() {
        CliTest.needRefs();
        String message = "please tell me about the quick brown fox that jumps over the lazy dog again and again";
        String tooLong = "word ".repeat(400).strip();
        StringBuilder input = new StringBuilder();
        for (int i = 0; i < 8; i++) input.append(message).append(' ').append(i).append('\n');
        input.append(tooLong).append('\n').append("still there?\n");
        InputStream old = System.in;
        try {
            System.setIn(new ByteArrayInputStream(input.toString().getBytes(StandardCharsets.UTF_8)));
            // qwen2moe-tiny's context is 256 tokens: each turn is ~20 prompt tokens plus up to 40 of reply.
            CliTest.Run r = CliTest.run("chat", "--model", CliTest.refs.resolve("qwen2moe-tiny").toString(),
                    "--system", "You are terse.", "--max-tokens", "40", "--temperature", "0");
            assertEquals(0, r.code(), r.err());
            assertTrue(r.out().contains("(context full: dropped the 2 oldest messages to fit the 256-token context)"), r.out());
            assertTrue(r.out().contains("(message not sent: it takes "), r.out());
            assertFalse(r.out().contains("dropped the 4"), "a message too long to send drops nothing: " + r.out());
            long prompts = r.out().chars().filter(c -> c == '>').count();
            assertTrue(prompts >= 11, "every line was read and the loop ended at end of input: " + r.out());
        } finally {
            System.setIn(old);
        }
    }
}
