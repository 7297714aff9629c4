package dev.moe4j.cli;

import dev.moe4j.kernel.Parallel;
import dev.moe4j.train.Checkpoint;
import dev.moe4j.train.ModelSpec;
import dev.moe4j.train.RouterSpec;
import dev.moe4j.train.TrainOptions;
import dev.moe4j.train.Trainer;
import dev.moe4j.train.data.BuiltinCorpus;
import dev.moe4j.train.data.Dataset;
import dev.moe4j.train.data.TextFileDataset;
import dev.moe4j.train.export.Exporter;
import dev.moe4j.util.Moe4jException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
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
    @Option(names = "--warmup", description = "warm-up steps (default: 5% of steps)") Integer warmup;
    @Option(names = "--weight-decay", description = "AdamW weight decay (default: ${DEFAULT-VALUE})") double weightDecay = 0.01;
    @Option(names = "--clip", description = "gradient-norm clip; 0 = off (default: ${DEFAULT-VALUE})") double clip = 1.0;
    @Option(names = "--balance-coef", description = "Switch load-balancing loss coefficient (default: ${DEFAULT-VALUE})") double balanceCoef = 0.01;
    @Option(names = "--z-coef", description = "router z-loss coefficient (default: ${DEFAULT-VALUE})") double zCoef = 1e-3;
    @Option(names = "--seed", description = "random seed (default: ${DEFAULT-VALUE})") long seed = 1234;
    @Option(names = "--checkpoint-every", description = "checkpoint every N steps, and always at the end (default: ${DEFAULT-VALUE})") int checkpointEvery = 100;
    @Option(names = "--eval-every", description = "validation loss every N steps (default: ${DEFAULT-VALUE})") int evalEvery = 50;
    @Option(names = "--out", description = "folder for checkpoints, tokenizer and exports (default: ${DEFAULT-VALUE})") Path out = Path.of("moe4j-train-out");
    @Option(names = "--resume", description = "continue the run whose checkpoint is in --out") boolean resume;
    @Option(names = "--no-export", description = "skip writing out/hf and out/model.gguf at the end") boolean noExport;
    @Option(names = "--threads", description = "threads (default: all cores)") Integer threads;
    @Option(names = "--verbose", description = "stack traces on errors") boolean verbose;

    @Override
    public Integer call() {
        if (threads != null) Parallel.setThreads(threads);
        PrintWriter o = spec.commandLine().getOut(), err = spec.commandLine().getErr();
        Trainer t;
        if (resume) {
            if (!Checkpoint.exists(out)) throw new Moe4jException(out + ": no checkpoint.bin to resume from");
            String dataName = Trainer.dataOf(out);
            t = Trainer.resume(out, dataset(dataName));
            o.printf("Resuming %s at step %d of %d%n", out, t.step(), t.options().steps());
        } else {
            String dataName = data == null ? "builtin" : "file:" + vocab + ":" + data.toAbsolutePath();
            Dataset ds = dataset(dataName);
            RouterSpec r = RouterSpec.parse(router, topK);
            if (capacity > 0) r = r.withCapacity(capacity);
            ModelSpec m = new ModelSpec(ds.vocabulary().vocabSize(), dim, layers, heads, experts, topK, ffn, sharedFfn, seqLen,
                    10000, 1e-5, r, true);
            TrainOptions opt = new TrainOptions(steps, batch, lr, 0.1, warmup != null ? warmup : Math.max(1, steps / 20), weightDecay,
                    clip, balanceCoef, zCoef, seed, checkpointEvery, evalEvery, 4);
            t = Trainer.create(m, opt, ds, dataName, out);
            o.printf("Training on %s: %d layers, dim %d, %s%n", ds.describe(), layers, dim,
                    experts == 1 ? "dense" : experts + " experts, top-" + topK + ", " + r.describe());
            o.printf("%d parameters, %d active per token; checkpoints in %s%n", t.model().totalParams(), t.model().activeParams(), out);
        }
        o.flush();
        ProgressBar bar = new ProgressBar(err, "train", t.step());
        long start = System.nanoTime();
        int first = t.step();
        t.run(bar::update);
        double secs = (System.nanoTime() - start) / 1e9;
        var h = t.history();
        var last = h.getLast();
        o.printf("Done: %d steps in %.1f s (%.0f tokens/s). Final loss %.4f, validation loss %.4f, balance loss %.4f, z-loss %.3f.%n",
                t.step() - first, secs, (double) (t.step() - first) * t.options().batch() * t.spec().seqLen() / secs,
                last.ce(), last.valLoss(), last.balance(), last.z());
        double[] mom = t.routingReport().maxOverMean();
        if (!t.spec().dense()) o.printf("Busiest expert / mean load per layer (validation): %s%n", java.util.Arrays.toString(round(mom)));
        o.printf("Checkpoint: %s%n", out.resolve("checkpoint.bin"));
        if (!noExport) {
            try {
                Exporter ex = new Exporter(t.model(), t.data().vocabulary());
                ex.writeHuggingFace(out.resolve("hf"));
                ex.writeGguf(out.resolve("model.gguf"));
                o.printf("Exported as %s: %s and %s%n", ex.layout(), out.resolve("hf"), out.resolve("model.gguf"));
            } catch (Moe4jException e) {
                o.printf("Not exported: %s%n", e.getMessage());
            }
        }
        return 0;
    }

    private Dataset dataset(String name) {
        if (name.equals("builtin")) return new BuiltinCorpus(null);
        if (!name.startsWith("file:")) throw new Moe4jException(out + ": unknown data source '" + name + "' in checkpoint");
        String rest = name.substring(5);
        int colon = rest.indexOf(':');
        return new TextFileDataset(Path.of(rest.substring(colon + 1)), Integer.parseInt(rest.substring(0, colon)), out.resolve("data"));
    }

    private static double[] round(double[] v) {
        double[] r = new double[v.length];
        for (int i = 0; i < v.length; i++) r[i] = Math.round(v[i] * 100) / 100.0;
        return r;
    }
}
