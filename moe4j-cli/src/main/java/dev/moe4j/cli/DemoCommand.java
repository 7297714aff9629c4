package dev.moe4j.cli;

import dev.moe4j.kernel.Parallel;
import dev.moe4j.train.demo.Demo;
import dev.moe4j.train.demo.ModelRun;
import dev.moe4j.util.Units;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Train an MoE model and a dense model of equal active compute on the built-in corpus (arithmetic, "
                + "code, prose, records), compare them, show how each domain is routed, and write an HTML report.")
final class DemoCommand implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Option(names = "--steps", description = "training steps per model (default: ${DEFAULT-VALUE})") int steps = Demo.Settings.defaults().steps();
    @Option(names = "--out", description = "folder for report.html, summary.json and the exported MoE model (default: ${DEFAULT-VALUE})")
    Path out = Demo.Settings.defaults().out();
    @Option(names = "--force", description = "write into --out even where it holds other files beside an earlier demo's "
            + "(a folder holding only an earlier demo's output is replaced without it)") boolean force;
    @Option(names = "--threads", description = "threads (default: all cores)") Integer threads;
    @Option(names = "--verbose", description = "stack traces on errors") boolean verbose;

    static String label(ModelRun m) {
        return m.spec().dense() ? m.name() + " (MLP width " + m.spec().expertFfn() + ")"
                : m.name() + " (" + m.spec().experts() + "x" + m.spec().expertFfn() + ", top-" + m.spec().topK() + ")";
    }

    @Override
    public Integer call() {
        if (threads != null) Parallel.setThreads(threads);
        PrintWriter o = spec.commandLine().getOut(), err = spec.commandLine().getErr();
        Demo.Settings s = Demo.Settings.defaults().withSteps(steps).withOut(out).withForce(force);
        Demo.prepareOutput(s);  // before the introduction, so a refused folder is the only line printed
        o.printf("Training an MoE model (%d experts, top-%d, %s, balancing loss %.2f) and a dense model with the same active%n"
                + "parameters, %d steps each, on the built-in corpus.%n", s.experts(), s.topK(), s.moeSpec().router().describe(),
                Demo.Settings.BALANCE_COEF, s.steps());
        o.flush();
        Map<String, ProgressBar> bars = new HashMap<>();
        Demo.Result r = Demo.run(s, (name, info) -> bars.computeIfAbsent(name, n -> new ProgressBar(err, String.format("%-5s", n), 0)).update(info));
        o.println();
        o.printf("%-26s %12s %12s %14s %10s %9s %14s%n", "model", "total params", "active", "FLOPs/token", "tokens/s", "ms/step", "val loss");
        for (ModelRun m : List.of(r.moe(), r.dense())) {
            o.printf("%-26s %12s %12s %14s %10s %9s %14s%n", label(m), Units.count(m.totalParams()), Units.count(m.activeParams()),
                    Units.count(m.flopsPerToken()), Units.count(m.tokensPerSecond()), Units.decimal(m.msPerStep(), 1),
                    Units.decimal(m.finalValLoss(), 4));
        }
        o.println("(tokens/s and ms/step are from the median training step; val loss is on held-out batches of every domain)");
        double d = r.dense().finalValLoss() - r.moe().finalValLoss();
        o.printf("%nMoE step time / dense step time: %s. Validation loss: MoE %s dense by %s nats/token.%n",
                Units.decimal(r.stepTimeRatio(), 2), d > 0 ? "beats" : "trails", Units.decimal(Math.abs(d), 4));
        o.println();
        o.println("How each domain's validation tokens are spread over the MoE experts (% of the domain's entries):");
        var rep = r.moe().routing();
        List<String> domains = dev.moe4j.train.data.BuiltinCorpus.DOMAINS;
        for (int l = 0; l < rep.loads().length; l++) {
            o.printf("layer %d (busiest expert / mean load: %s)%n%-12s", l, Units.decimal(rep.maxOverMean()[l], 2), "");
            for (int e = 0; e < rep.loads()[l].length; e++) o.printf("%6s", "e" + e);
            o.println();
            for (int dm = 0; dm < domains.size(); dm++) {
                long sum = 0;
                for (long c : rep.domainExpert()[l][dm]) sum += c;
                o.printf("%-12s", domains.get(dm));
                for (long c : rep.domainExpert()[l][dm]) o.printf("%6.1f", 100.0 * c / Math.max(1, sum));
                o.println();
            }
        }
        o.println();
        o.println("Samples from the MoE model (temperature 0.5):");
        for (String[] smp : r.samples()) o.printf("  %s|%s%n", smp[0], smp[1].replace("\n", "\\n"));
        o.printf("%nReport: %s%nSummary: %s%nExported MoE model: %s (and %s)%n", r.report().toAbsolutePath(), r.summary().toAbsolutePath(),
                r.exported().toAbsolutePath(), s.out().resolve("moe.gguf").toAbsolutePath());
        return 0;
    }
}
