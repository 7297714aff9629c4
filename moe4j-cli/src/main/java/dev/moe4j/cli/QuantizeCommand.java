package dev.moe4j.cli;

import dev.moe4j.cli.perf.Progress;
import dev.moe4j.format.gguf.GgufQuantizer;
import dev.moe4j.format.gguf.QuantMix;
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
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
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

    @Option(names = "--type", required = true, paramLabel = "TYPE",
            description = "q8_0, q6_k, q5_k, q5_1, q5_0, q4_k, q4_1 or q4_0; mxfp4 (merged experts MXFP4, other weights Q8_0, "
                    + "as llama.cpp's MXFP4_MOE); the llama-quantize mixes q4_k_m and q5_k_m; "
                    + "f16, bf16 or f32 convert without quantising.")
    String type;

    @Option(names = "--threads", paramLabel = "N", description = "Threads for quantising (default: all cores).")
    Integer threads;

    @Option(names = "--verbose", description = "Print stack traces on errors.")
    boolean verbose;

    /** What {@link #parseType} accepts, best first: the quantised types moe4j can write. */
    private static final List<DType> QUANTISED = List.of(DType.Q8_0, DType.Q6_K, DType.Q5_K, DType.Q5_1, DType.Q5_0,
            DType.Q4_K, DType.Q4_1, DType.Q4_0, DType.MXFP4);

    /** A quantised type or f16 by its lower-case name; also bf16 and f32 unless {@code allowF16} (synth's list). */
    static DType parseType(String name, boolean allowF16) {
        String lower = name.toLowerCase(Locale.ROOT);
        List<DType> accepted = new ArrayList<>(QUANTISED);
        accepted.add(DType.F16);
        if (!allowF16) accepted.addAll(List.of(DType.BF16, DType.F32));
        for (DType t : accepted) if (t.name().toLowerCase(Locale.ROOT).equals(lower)) return t;
        String names = String.join(", ", QUANTISED.stream().map(t -> t.name().toLowerCase(Locale.ROOT)).toList());
        throw new IllegalArgumentException("--type: unknown type '" + name + "' (" + names
                + (allowF16 ? ", f16)" : ", " + String.join(", ", QuantMix.names()) + "; or f16, bf16, f32 to convert without quantising)"));
    }

    @Override
    public Integer call() {
        QuantMix mix = QuantMix.byName(type);
        DType t = mix != null ? mix.base() : parseType(type, false);
        String label = mix != null ? mix.name() : t.name().toLowerCase(Locale.ROOT);
        if (threads != null) Parallel.setThreads(threads);
        if (!Files.exists(model)) throw new Moe4jException(model + ": no such file or directory");
        if (model.toAbsolutePath().normalize().equals(out.toAbsolutePath().normalize())) {
            throw new IllegalArgumentException("--out is the input file");
        }
        PrintWriter err = spec.commandLine().getErr();
        boolean folder = Files.isDirectory(model);
        if (!folder && !isGguf(model)) throw new Moe4jException(model + ": not a GGUF file (bad magic) and not a checkpoint folder");
        Listener listener = new Listener(err, "quantize " + label);
        OutputFile.write(out, err, file -> {
            listener.file = file;
            if (folder && mix != null) HfToGguf.quantize(model, out, mix, listener);
            else if (folder) HfToGguf.quantize(model, out, t, listener);
            else if (mix != null) GgufQuantizer.quantizeGguf(model, out, mix, listener);
            else GgufQuantizer.quantizeGguf(model, out, t, listener);
        });
        listener.finish();
        err.printf("wrote %s (%s; %d tensors kept wider than %s because of their row length)%n", out, Units.bytes(out.toFile().length()),
                listener.fallbacks, label);
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
