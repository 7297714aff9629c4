package dev.moe4j.cli;

import dev.moe4j.cli.perf.Progress;
import dev.moe4j.format.gguf.GgufQuantizer;
import dev.moe4j.kernel.Parallel;
import dev.moe4j.model.HfToGguf;
import dev.moe4j.tensor.DType;
import dev.moe4j.util.Moe4jException;
import dev.moe4j.util.Units;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.Callable;

@Command(name = "quantize", mixinStandardHelpOptions = true,
        description = "Write a quantised GGUF (llama.cpp layout) from an F32/F16/BF16 GGUF or a Hugging Face checkpoint folder.")
final class QuantizeCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = {"-m", "--model"}, required = true, paramLabel = "PATH",
            description = "An F32/F16/BF16 .gguf file or a Hugging Face checkpoint folder (config.json + *.safetensors).")
    Path model;

    @Option(names = "--out", required = true, paramLabel = "FILE.gguf", description = "The file to write.")
    Path out;

    @Option(names = "--type", required = true, paramLabel = "TYPE", description = "q8_0, q4_0, q4_k, q6_k or mxfp4 (merged experts MXFP4, other weights Q8_0, as llama.cpp's MXFP4_MOE); f16, bf16 or f32 convert without quantising.")
    String type;

    @Option(names = "--threads", paramLabel = "N", description = "Threads for quantising (default: all cores).")
    Integer threads;

    @Option(names = "--verbose", description = "Print stack traces on errors.")
    boolean verbose;

    static DType parseType(String name, boolean allowF16) {
        return switch (name.toLowerCase()) {
            case "q8_0" -> DType.Q8_0;
            case "q4_0" -> DType.Q4_0;
            case "q4_k" -> DType.Q4_K;
            case "q6_k" -> DType.Q6_K;
            case "mxfp4" -> DType.MXFP4;
            case "f16" -> DType.F16;
            case "f32", "bf16" -> {
                if (allowF16) throw new IllegalArgumentException("--type: unknown type '" + name + "' (q8_0, q4_0, q4_k, q6_k, mxfp4, f16)");
                yield name.equalsIgnoreCase("f32") ? DType.F32 : DType.BF16;
            }
            default -> throw new IllegalArgumentException("--type: unknown type '" + name + "' (q8_0, q4_0, q4_k, q6_k, mxfp4, "
                    + (allowF16 ? "f16)" : "or f16, bf16, f32 to convert without quantising)"));
        };
    }

    @Override
    public Integer call() {
        DType t = parseType(type, false);
        if (threads != null) Parallel.setThreads(threads);
        if (!Files.exists(model)) throw new Moe4jException(model + ": no such file or directory");
        if (model.toAbsolutePath().normalize().equals(out.toAbsolutePath().normalize())) {
            throw new IllegalArgumentException("--out is the input file");
        }
        PrintWriter err = spec.commandLine().getErr();
        boolean folder = Files.isDirectory(model);
        if (!folder && !isGguf(model)) throw new Moe4jException(model + ": not a GGUF file (bad magic) and not a checkpoint folder");
        Listener listener = new Listener(err, "quantize " + t.name().toLowerCase());
        OutputFile.write(out, err, file -> {
            listener.file = file;
            if (folder) HfToGguf.quantize(model, out, t, listener);
            else GgufQuantizer.quantizeGguf(model, out, t, listener);
        });
        listener.finish();
        err.printf("wrote %s (%s; %d tensors kept wider than %s because of their row length)%n", out, Units.bytes(out.toFile().length()),
                listener.fallbacks, t.name().toLowerCase());
        return 0;
    }

    private static boolean isGguf(Path p) {
        try (InputStream in = Files.newInputStream(p)) {
            return Arrays.equals(in.readNBytes(4), "GGUF".getBytes());
        } catch (IOException e) {
            throw new Moe4jException(p + ": cannot read: " + e.getMessage(), e);
        }
    }

    /** Fallback notes first (planning), then the free-space check and the progress bar (writing). */
    private static final class Listener implements GgufQuantizer.Listener {
        private final PrintWriter err;
        private final String label;
        private Progress progress;
        OutputFile file;
        int fallbacks;

        Listener(PrintWriter err, String label) {
            this.err = err;
            this.label = label;
        }

        @Override public void fallback(String tensor, DType wanted, DType used, long rowLength) {
            fallbacks++;
            err.printf("%s: rows of %d are not whole %s blocks of %d, so it is %s%n", tensor, rowLength,
                    wanted.name().toLowerCase(), wanted.blockSize, used.name().toLowerCase());
        }

        @Override public void start(long totalBytes) {
            file.requireSpace(totalBytes);
            progress = new Progress(err, label, totalBytes, file::checkNotInterrupted);
        }

        @Override public void advance(long bytes) { progress.advance(bytes); }

        void finish() { if (progress != null) progress.finish(); }
    }
}
