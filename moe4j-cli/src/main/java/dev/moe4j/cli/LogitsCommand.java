package dev.moe4j.cli;

import dev.moe4j.model.KvCache;
import dev.moe4j.model.Model;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "logits", mixinStandardHelpOptions = true,
        description = "Run token ids through the model and write the logits of every position as little-endian float32 [n_ids, vocab].")
final class LogitsCommand implements Callable<Integer> {
    @Mixin ModelOptions opts;
    @Spec CommandSpec spec;

    @Option(names = "--ids", required = true, paramLabel = "1,2,3", description = "Comma-separated token ids.")
    String ids;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "Where to write the logits.")
    Path out;

    @Override
    public Integer call() throws IOException {
        int[] tokens = Ids.parse(ids);
        try (Model m = opts.open()) {
            int ctx = m.config().contextLength();
            if (tokens.length > ctx) throw new IllegalArgumentException("--ids: " + tokens.length + " tokens exceed the context of " + ctx);
            KvCache cache = m.transformer().newCache(tokens.length);
            float[] logits = m.transformer().forward(tokens, cache, true);
            ByteBuffer buf = ByteBuffer.allocate(logits.length * 4).order(ByteOrder.LITTLE_ENDIAN);
            buf.asFloatBuffer().put(logits);
            try (OutputStream os = Files.newOutputStream(out)) {
                os.write(buf.array());
            } catch (IOException e) {
                throw new IllegalArgumentException(out + ": cannot write: " + e.getMessage());
            }
            spec.commandLine().getErr().printf("wrote %d x %d float32 logits to %s%n", tokens.length, m.config().vocabSize(), out);
        }
        return 0;
    }
}
