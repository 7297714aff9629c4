package dev.moe4j.constrain;

import dev.moe4j.tokenizer.Tokenizer;
import dev.moe4j.tokenizer.Tokenizers;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The token byte strings the mask is computed from spell exactly the text the tokenizer decodes, for a byte-level
 * BPE vocabulary (qwen2moe-tiny) and a SentencePiece one with byte fallback (mixtral-tiny), characters split over
 * byte tokens included.
 */
class TokenBytesTest {
    static Path ref(String name) {
        Path p = Path.of("").toAbsolutePath();
        while (p != null && !Files.isDirectory(p.resolve("shared/refs"))) p = p.getParent();
        Assumptions.assumeTrue(p != null, "skipped: shared/refs is absent, so there is no tokenizer to read");
        return p.resolve("shared/refs").resolve(name);
    }

    @Test
    void tokenBytesSpellTheDecodedText() {
        for (String name : new String[]{"qwen2moe-tiny", "mixtral-tiny"}) {
            Tokenizer tok = Tokenizers.fromHuggingFaceFolder(ref(name));
            for (String text : new String[]{"Hello world", "{\"a\": [1, 2.5, \"é€😀\"]}\n\tx", "a  two  spaces", "日本語のテキスト"}) {
                int[] ids = tok.encode(text, false);
                ByteArrayOutputStream b = new ByteArrayOutputStream();
                for (int id : ids) b.writeBytes(tok.tokenBytes(id));
                String spelled = b.toString(StandardCharsets.UTF_8);
                // SentencePiece writes a leading space that decoding strips at the start of a text.
                String decoded = tok.decode(ids);
                assertEquals(decoded, spelled.startsWith(" ") && !decoded.startsWith(" ") ? spelled.substring(1) : spelled, name + ": " + text);
            }
        }
    }
}
