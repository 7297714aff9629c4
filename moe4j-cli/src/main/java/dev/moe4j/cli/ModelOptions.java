package dev.moe4j.cli;

import dev.moe4j.kernel.Parallel;
import dev.moe4j.model.Model;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/** Options every model command shares. */
final class ModelOptions {
    @Option(names = {"-m", "--model"}, required = true, paramLabel = "PATH",
            description = "A .gguf file or a Hugging Face checkpoint folder (config.json + *.safetensors).")
    Path model;

    @Option(names = "--threads", paramLabel = "N", description = "Worker threads for the kernels (default: all cores).")
    Integer threads;

    @Option(names = "--verbose", description = "Print stack traces on errors.")
    boolean verbose;

    Model open() {
        if (threads != null) Parallel.setThreads(threads);
        return Model.load(model).warmUp();
    }
}
