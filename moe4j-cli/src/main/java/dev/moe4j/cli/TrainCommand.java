package dev.moe4j.cli;

import dev.moe4j.kernel.Parallel;
import dev.moe4j.train.Checkpoint;
import dev.moe4j.train.MoeModel;
import dev.moe4j.train.OutputFolder;
import dev.moe4j.train.ModelSpec;
import dev.moe4j.train.RouterSpec;
import dev.moe4j.train.TrainOptions;
import dev.moe4j.train.Trainer;
import dev.moe4j.train.data.BuiltinCorpus;
import dev.moe4j.train.data.Dataset;
import dev.moe4j.train.data.TextFileDataset;
import dev.moe4j.train.export.Exporter;
import dev.moe4j.util.Moe4jException;
import dev.moe4j.util.Units;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Train an MoE transformer on a text file or the built-in corpus, with checkpoints, resume and export "
                + "(Hugging Face folder and GGUF) into --out.")
final class TrainCommand implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Option(names = "--data", description = "plain-text training file (default: the built-in corpus)") Path data;
    @Option(names = "--vocab", description = "with --data: byte-level BPE vocabulary size; 257 = plain bytes (default: ${DEFAULT-VALUE})") int vocab = 512;
    @Option(names = "--experts", description = "routed experts per layer; 1 = dense (default: ${DEFAULT-VALUE})") int experts = 8;
    @Option(names = "--top-k", description = "experts per token (default: ${DEFAULT-VALUE})") int topK = 2;
    @Option(names = "--router", description = "softmax, noisy, sigmoid (loss-free bias) or expert-choice (default: ${DEFAULT-VALUE})") String router = "softmax";
    @Option(names = "--capacity-factor", description = "expert capacity factor with token dropping; 0 = dropless (default: ${DEFAULT-VALUE})") double capacity = 0;
    @Option(names = "--shared-ffn", description = "width of a shared expert every token uses; 0 = none (default: ${DEFAULT-VALUE})") int sharedFfn = 0;
    @Option(names = "--layers", description = "transformer blocks (default: ${DEFAULT-VALUE})") int layers = 2;
    @Option(names = "--dim", description = "hidden size (default: ${DEFAULT-VALUE})") int dim = 64;
    @Option(names = "--heads", description = "attention heads (default: ${DEFAULT-VALUE})") int heads = 4;
    @Option(names = "--ffn", description = "width of each expert (default: ${DEFAULT-VALUE})") int ffn = 64;
    @Option(names = "--seq-len", description = "tokens per sequence (default: ${DEFAULT-VALUE})") int seqLen = 64;
    @Option(names = "--batch", description = "sequences per step (default: ${DEFAULT-VALUE})") int batch = 16;
    @Option(names = "--steps", description = "training steps (default: ${DEFAULT-VALUE})") int steps = 300;
    @Option(names = "--lr", description = "peak learning rate (default: ${DEFAULT-VALUE})") double lr = 3e-3;
    @Option(names = "--warmup", description = "warm-up steps (default: 5%% of steps)") Integer warmup;
    @Option(names = "--weight-decay", description = "AdamW weight decay (default: ${DEFAULT-VALUE})") double weightDecay = 0.01;
    @Option(names = "--clip", description = "gradient-norm clip; 0 = off (default: ${DEFAULT-VALUE})") double clip = 1.0;
    @Option(names = "--balance-coef", description = "Switch load-balancing loss coefficient (default: ${DEFAULT-VALUE})") double balanceCoef = 0.01;
    @Option(names = "--z-coef", description = "router z-loss coefficient (default: ${DEFAULT-VALUE})") double zCoef = 1e-3;
    @Option(names = "--seed", description = "random seed (default: ${DEFAULT-VALUE})") long seed = 1234;
    @Option(names = "--checkpoint-every", description = "checkpoint every N steps, and always at the end (default: ${DEFAULT-VALUE})") int checkpointEvery = 100;
    @Option(names = "--eval-every", description = "validation loss every N steps (default: ${DEFAULT-VALUE})") int evalEvery = 50;
    @Option(names = "--out", description = "folder for checkpoints, tokenizer and exports (default: ${DEFAULT-VALUE})") Path out = Path.of("moe4j-train-out");
    @Option(names = "--resume", description = "continue the run in --out; may change only --steps (to extend it), --checkpoint-every, "
            + "--eval-every, --threads and --no-export") boolean resume;
    @Option(names = "--force", description = "replace the run already in --out (its checkpoint, exports and encoded data)") boolean force;
    @Option(names = "--no-export", description = "skip writing out/hf and out/model.gguf at the end") boolean noExport;
    @Option(names = "--threads", description = "threads (default: all cores)") Integer threads;
    @Option(names = "--verbose", description = "stack traces on errors") boolean verbose;

    /** Everything a run writes into --out, for the overwrite check and --force. */
    static final List<String> OUTPUTS = outputs();

    private static List<String> outputs() {
        List<String> o = new ArrayList<>(List.of(Checkpoint.FILE, Checkpoint.FILE + ".tmp", "model.gguf", "model.gguf.tmp",
                Exporter.scratchFolder(Path.of("model.gguf")) + "/"));
        for (String f : Exporter.HF_FILES) o.add("hf/" + f);
        for (String f : TextFileDataset.WORK_FILES) o.add("data/" + f);
        return List.copyOf(o);
    }

    @Override
    public Integer call() {
        if (threads != null) Parallel.setThreads(threads);
        if (resume && force) throw new Moe4jException("--resume and --force contradict each other: --resume continues the run in --out, --force replaces it");
        PrintWriter o = spec.commandLine().getOut(), err = spec.commandLine().getErr();
        OutputFolder folder = new OutputFolder(out, OUTPUTS);
        Trainer t = resume ? resumeRun(folder, o) : newRun(folder, o);
        o.flush();
        ProgressBar bar = new ProgressBar(err, "train", t.step());
        long start = System.nanoTime();
        int first = t.step();
        try (ShutdownGuard guard = ShutdownGuard.install(stopped -> reportInterrupted(t, stopped, err))) {
            try {
                t.run(info -> {
                    bar.update(info);
                    guard.check();  // after the step's checkpoint, if it had one
                });
            } catch (RuntimeException e) {
                err.println();  // end the progress line before the error or the interruption report
                throw e;
            }
        }
        double secs = (System.nanoTime() - start) / 1e9;
        var h = t.history();
        var last = h.getLast();
        o.printf("Done: %d steps in %.1f s (%s tokens/s). Final loss %s, validation loss %s, balance loss %s, z-loss %s.%n",
                t.step() - first, secs, Units.count((double) (t.step() - first) * t.options().batch() * t.spec().seqLen() / secs),
                Units.decimal(last.ce(), 4), Units.decimal(last.valLoss(), 4), Units.decimal(last.balance(), 4), Units.decimal(last.z(), 3));
        double[] mom = t.routingReport().maxOverMean();
        if (!t.spec().dense()) o.printf("Busiest expert / mean load per layer (validation): %s%n", java.util.Arrays.toString(round(mom)));
        o.printf("Checkpoint: %s%n", out.resolve(Checkpoint.FILE));
        if (!noExport) export(t, o);
        return 0;
    }

    /** Ctrl-C or SIGTERM during training: which step the checkpoint holds and how to continue. */
    private void reportInterrupted(Trainer t, boolean stopped, PrintWriter err) {
        if (!stopped) err.println();  // the step was still running: its progress line is not ended
        err.printf("moe4j: interrupted at step %d of %d; %s holds step %d: continue with 'moe4j train --out %s --resume'%n",
                t.step(), t.options().steps(), out.resolve(Checkpoint.FILE), t.savedStep(), out);
        err.flush();
    }

    private Trainer newRun(OutputFolder folder, PrintWriter o) {
        if (data == null && given("--vocab")) throw new Moe4jException("--vocab needs --data (the built-in corpus is plain bytes)");
        if (data != null) TextFileDataset.requireRegularFile(data);
        if (data != null && vocab < 257) throw new Moe4jException("invalid --vocab: " + vocab + " (257 = plain bytes, more = byte-level BPE)");
        RouterSpec r = RouterSpec.parse(router, topK);
        if (capacity != 0) r = r.withCapacity(capacity);
        TrainOptions opt = new TrainOptions(steps, batch, lr, 0.1, warmup != null ? warmup : Math.max(1, steps / 20), weightDecay,
                clip, balanceCoef, zCoef, seed, checkpointEvery, evalEvery, 4);
        // the shape is checked with the largest vocabulary the data can have, before anything in --out is touched
        ModelSpec shape = modelSpec(data == null ? 257 : vocab, r);
        Trainer.requireMemory(shape, batch);
        List<String> existing = folder.existing();
        if (!existing.isEmpty()) {
            if (!force) {
                throw new Moe4jException(out + ": already holds " + (existing.contains(Checkpoint.FILE) ? "a training run" : "a training run's files")
                        + " (" + String.join(", ", existing.size() > 4 ? existing.subList(0, 4) : existing) + (existing.size() > 4 ? ", ..." : "")
                        + "); --resume continues it, --force replaces it");
            }
            folder.clear();
        }
        folder.prepare();
        String dataName = data == null ? "builtin" : "file:" + vocab + ":" + data.toAbsolutePath().normalize();
        Dataset ds;
        Trainer t;
        try {
            long dataBytes = data != null ? 4 * fileSize(data) : 0;  // at most one 4-byte token per byte
            folder.requireSpace(2 * Trainer.checkpointBytes(shape, opt) + (noExport ? 0 : (long) (12 * MoeModel.paramCount(shape))) + dataBytes,
                    "two checkpoints" + (noExport ? "" : ", the exports") + (dataBytes > 0 ? ", the encoded data" : ""));
            ds = dataset(dataName);
            t = Trainer.create(modelSpec(ds.vocabulary().vocabSize(), r), opt, ds, dataName, out);
        } catch (RuntimeException e) {
            if (!Checkpoint.exists(out)) {  // a run that never started leaves nothing behind, not even the folders it made
                try {
                    folder.clear();
                    folder.removeCreatedFolders();
                } catch (IOException | RuntimeException cleanup) {
                    e.addSuppressed(cleanup);
                }
            }
            throw e;
        }
        o.printf("Training on %s: %d layers, dim %d, %s%n", ds.describe(), layers, dim,
                experts == 1 ? "dense" : experts + " experts, top-" + topK + ", " + r.describe());
        o.printf("%s parameters, %s active per token; checkpoints in %s%n", Units.count(t.model().totalParams()),
                Units.count(t.model().activeParams()), out);
        return t;
    }

    private ModelSpec modelSpec(int vocabSize, RouterSpec r) {
        return new ModelSpec(vocabSize, dim, layers, heads, experts, topK, ffn, sharedFfn, seqLen, 10000, 1e-5, r, true);
    }

    private Trainer resumeRun(OutputFolder folder, PrintWriter o) {
        Checkpoint c = Checkpoint.read(out);
        requireUnchanged(c);
        TrainOptions opt = c.options();
        if (given("--steps")) opt = opt.withSteps(steps);
        if (given("--checkpoint-every")) opt = opt.withCheckpointEvery(checkpointEvery);
        if (given("--eval-every")) opt = opt.withEvalEvery(evalEvery);
        if (opt.steps() < c.step()) {
            throw new Moe4jException("invalid --steps: " + opt.steps() + " (the run in " + out + " has completed " + c.step() + " steps)");
        }
        folder.prepare();
        Trainer t = Trainer.resume(c, out, dataset(c.data()), opt);
        o.printf("Resuming %s at step %d of %d%s%n", out, t.step(), opt.steps(),
                opt.steps() != c.options().steps() ? " (extended from " + c.options().steps() + ")" : "");
        if (t.step() == opt.steps()) o.printf("The run is complete; --steps N extends it.%n");
        return t;
    }

    /** Options that shape the model, the data or the optimisation must equal the run's when given with --resume. */
    private void requireUnchanged(Checkpoint c) {
        ModelSpec s = c.spec();
        TrainOptions r = c.options();
        DataSource recorded = DataSource.parse(c.data(), out);
        Object[][] fixed = {
                {"--data", data == null ? null : data.toAbsolutePath().normalize(), recorded.file() == null ? "the built-in corpus" : recorded.file()},
                {"--vocab", vocab, recorded.file() == null ? "none (the built-in corpus is plain bytes)" : recorded.vocab()},
                {"--experts", experts, s.experts()}, {"--top-k", topK, s.topK()},
                {"--router", RouterSpec.parse(router, s.topK()).kind(), s.router().kind()},
                {"--capacity-factor", capacity, s.router().capacityFactor()}, {"--shared-ffn", sharedFfn, s.sharedFfn()},
                {"--layers", layers, s.layers()}, {"--dim", dim, s.dim()}, {"--heads", heads, s.heads()}, {"--ffn", ffn, s.expertFfn()},
                {"--seq-len", seqLen, s.seqLen()}, {"--batch", batch, r.batch()}, {"--lr", lr, r.lr()}, {"--warmup", warmup, r.warmup()},
                {"--weight-decay", weightDecay, r.weightDecay()}, {"--clip", clip, r.clip()}, {"--balance-coef", balanceCoef, r.balanceCoef()},
                {"--z-coef", zCoef, r.zCoef()}, {"--seed", seed, r.seed()}};
        for (Object[] f : fixed) {
            String name = (String) f[0];
            if (given(name) && !String.valueOf(f[1]).equals(String.valueOf(f[2]))) {
                throw new Moe4jException(out + ": " + name + " " + shown(f[1]) + " differs from the run's " + shown(f[2])
                        + "; --resume may change only --steps, --checkpoint-every, --eval-every, --threads and --no-export "
                        + "(start a new run in another --out, or replace this one with --force)");
            }
        }
    }

    private static String shown(Object v) {
        return v instanceof RouterSpec.Kind k ? k.name().toLowerCase(java.util.Locale.ROOT).replace('_', '-') : String.valueOf(v);
    }

    private boolean given(String option) {
        return spec.commandLine().getParseResult().hasMatchedOption(option);
    }

    private void export(Trainer t, PrintWriter o) {
        Exporter ex;
        try {
            ex = new Exporter(t.model(), t.data().vocabulary());
        } catch (Moe4jException e) {
            o.printf("Not exported: %s%n", e.getMessage());  // a routing no published layout has
            return;
        }
        ex.writeHuggingFace(out.resolve("hf"));
        ex.writeGguf(out.resolve("model.gguf"));
        o.printf("Exported as %s: %s and %s%n", ex.layout(), out.resolve("hf"), out.resolve("model.gguf"));
    }

    /** Where a run's tokens come from, as recorded in its checkpoint: "builtin" or "file:VOCAB:PATH". */
    record DataSource(Path file, int vocab) {
        static DataSource parse(String name, Path out) {
            if (name.equals("builtin")) return new DataSource(null, 257);
            String[] parts = name.split(":", 3);
            try {
                if (parts.length == 3 && parts[0].equals("file")) return new DataSource(Path.of(parts[2]), Integer.parseInt(parts[1]));
            } catch (NumberFormatException e) {
                // falls through to the error below
            }
            throw new Moe4jException(out.resolve(Checkpoint.FILE) + ": invalid data: '" + name + "' (builtin or file:VOCAB:PATH)");
        }
    }

    private Dataset dataset(String name) {
        DataSource src = DataSource.parse(name, out);
        return src.file() == null ? new BuiltinCorpus(null) : new TextFileDataset(src.file(), src.vocab(), out.resolve("data"));
    }

    private static long fileSize(Path p) {
        try {
            return Files.size(p);
        } catch (IOException e) {
            return 0;  // the dataset reports the unreadable file
        }
    }

    private static double[] round(double[] v) {
        double[] r = new double[v.length];
        for (int i = 0; i < v.length; i++) r[i] = Math.round(v[i] * 100) / 100.0;
        return r;
    }
}
