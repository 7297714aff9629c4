package dev.moe4j.cli;

import dev.moe4j.cli.perf.SynthShape;
import dev.moe4j.cli.perf.SynthWriter;
import dev.moe4j.kernel.Parallel;
import dev.moe4j.tensor.DType;
import dev.moe4j.util.Units;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "synth", mixinStandardHelpOptions = true,
        description = "Write a random-weight GGUF with the shape of a published MoE model (loads in moe4j and llama.cpp), for benchmarks.")
final class SynthCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--shape", required = true, paramLabel = "NAME",
            description = "olmoe-1b-7b, olmoe-mini, mixtral-8x7b, qwen3-30b-a3b or tiny.")
    String shape;

    @Option(names = "--out", required = true, paramLabel = "FILE.gguf", description = "The file to write.")
    Path out;

    @Option(names = "--type", defaultValue = "q8_0", paramLabel = "TYPE", description = "f16, q8_0, q4_0, q4_k, q6_k or mxfp4 (default q8_0).")
    String type;

    @Option(names = "--seed", defaultValue = "42", paramLabel = "S", description = "Random seed (default 42).")
    long seed;

    @Option(names = "--threads", paramLabel = "N", description = "Threads for generating and quantising (default: all cores).")
    Integer threads;

    @Override
    public Integer call() {
        if (threads != null) Parallel.setThreads(threads);
        DType t = QuantizeCommand.parseType(type, true);
        SynthShape s = SynthShape.named(shape);
        PrintWriter err = spec.commandLine().getErr();
        OutputFile.write(out, err, file -> new SynthWriter(s, t, seed).write(out, err, file::requireSpace, file::checkNotInterrupted));
        err.printf("wrote %s (%s)%n", out, Units.bytes(out.toFile().length()));
        return 0;
    }
}
