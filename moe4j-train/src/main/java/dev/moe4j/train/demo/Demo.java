package dev.moe4j.train.demo;

import dev.moe4j.train.InvalidSettingException;
import dev.moe4j.train.ModelSpec;
import dev.moe4j.train.MoeModel;
import dev.moe4j.train.OutputFolder;
import dev.moe4j.train.RouterSpec;
import dev.moe4j.train.TrainOptions;
import dev.moe4j.train.Trainer;
import dev.moe4j.train.data.BuiltinCorpus;
import dev.moe4j.train.data.JsonOut;
import dev.moe4j.train.export.Exporter;
import dev.moe4j.util.Moe4jException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiConsumer;

/**
 * Tests the MoE claim on the built-in corpus: an MoE model and a dense model with the same active parameters per
 * token (the dense MLP is as wide as the k chosen experts together) train on the same batches with the same
 * schedule; then validation loss, speed, routing by domain and samples are compared and written to a report.
 */
public final class Demo {
    /**
     * Demo settings; {@link #defaults()} is sized for about five minutes on two cores.
     *
     * @param force write into {@code out} even when it holds files that are not a demo's beside files the demo would replace
     */
    public record Settings(int steps, int batch, int dim, int layers, int experts, int topK, int expertFfn, int seqLen, long seed, Path out,
                           boolean force) {
        public static Settings defaults() {
            return new Settings(1000, 16, 64, 2, 8, 2, 64, 64, 1234, Path.of("moe4j-demo"), false);
        }

        public Settings withSteps(int s) { return new Settings(s, batch, dim, layers, experts, topK, expertFfn, seqLen, seed, out, force); }

        public Settings withOut(Path o) { return new Settings(steps, batch, dim, layers, experts, topK, expertFfn, seqLen, seed, o, force); }

        public Settings withForce(boolean f) { return new Settings(steps, batch, dim, layers, experts, topK, expertFfn, seqLen, seed, out, f); }

        public ModelSpec moeSpec() {
            return new ModelSpec(257, dim, layers, 4, experts, topK, expertFfn, 0, seqLen, 10000, 1e-5, RouterSpec.softmax(true), true);
        }

        /** Balancing loss 0.05 rather than the usual 0.01: on this corpus it keeps the busiest expert within ~1.2× the
         *  mean over a short run and does not cost validation loss. */
        public static final double BALANCE_COEF = 0.05;

        TrainOptions options() {
            return TrainOptions.defaults(steps).withEvalEvery(Math.max(1, steps / 12)).withBalance(BALANCE_COEF);
        }
    }

    /** Both runs, the samples, and where the report and summary went. */
    public record Result(ModelRun moe, ModelRun dense, List<String[]> samples, Path report, Path summary, Path exported) {
        /** MoE step time over dense step time. */
        public double stepTimeRatio() { return moe.msPerStep() / dense.msPerStep(); }
    }

    public static final List<String> PROMPTS = List.of("37+45=", "def add(", "The quick ", "{\"id\": ");

    private Demo() {}

    /** What the demo writes into its folder (relative paths; a trailing / marks the exporter's scratch folder). */
    public static final List<String> OUTPUTS = outputs();

    private static List<String> outputs() {
        List<String> o = new ArrayList<>(List.of("report.html", "summary.json", "moe.gguf", "moe.gguf.tmp",
                Exporter.scratchFolder(Path.of("moe.gguf")).toString() + "/"));
        for (String f : Exporter.HF_FILES) o.add("moe-hf/" + f);
        return List.copyOf(o);
    }

    /**
     * Checks the output folder before the demo trains: an earlier demo's files are replaced, but where the folder
     * also holds other files, the demo's would-be victims are refused unless {@link Settings#force()}. Checks that the
     * folder can be created and written and has room; a folder made for the check is removed again ({@link #run}
     * makes it when it writes), so a demo that fails or is stopped while training leaves none behind.
     *
     * @throws InvalidSettingException naming a setting out of range (steps below 1)
     * @throws Moe4jException naming the folder when it would overwrite files that may not be a demo's, or cannot be written
     */
    public static void prepareOutput(Settings s) {
        s.options();  // the settings first: a bad one is the only line printed
        s.moeSpec();
        OutputFolder folder = new OutputFolder(s.out(), OUTPUTS);
        List<String> existing = folder.existing(), others = folder.others();
        if (!s.force() && !existing.isEmpty() && !others.isEmpty()) {
            throw new Moe4jException(s.out() + ": holds files that are not a demo's (" + few(others) + ") beside files the demo would "
                    + "overwrite (" + few(existing) + "); choose another --out, or add --force to overwrite those");
        }
        folder.prepare();
        try {
            // the exported model twice (safetensors and GGUF, float32) and the GGUF's scratch copy, plus the report
            folder.requireSpace((long) (3 * 4 * MoeModel.paramCount(s.moeSpec())) + (1 << 20), "the report and the exported model");
        } finally {
            // nothing is written before training ends, and run() creates the folder then: a demo that fails or is
            // stopped before that leaves no empty folder behind
            try {
                folder.removeCreatedFolders();
            } catch (IOException e) {
                throw new Moe4jException(s.out() + ": cannot remove the folder made to check it: " + OutputFolder.reason(e), e);
            }
        }
    }

    /**
     * Runs the demo ({@link #prepareOutput} first); {@code progress} receives (model name, step) after every step.
     *
     * @throws Moe4jException naming the folder when it would overwrite files that may not be a demo's, or cannot be written
     */
    public static Result run(Settings s, BiConsumer<String, Trainer.StepInfo> progress) {
        prepareOutput(s);
        ModelSpec moeSpec = s.moeSpec();
        BuiltinCorpus corpus = new BuiltinCorpus(null);
        Trained moe = train("MoE", moeSpec, s, corpus, progress);
        Trained dense = train("dense", moeSpec.denseTwin(), s, corpus, progress);
        List<String[]> samples = new ArrayList<>();
        for (String prompt : PROMPTS) {
            int[] ids = corpus.tokenizer().encode(prompt, false);
            samples.add(new String[] {prompt, corpus.tokenizer().decode(moe.trainer.model().generate(ids, 48, 0.5, s.seed()))});
        }
        try {
            Files.createDirectories(s.out());
            Path exported = s.out().resolve("moe-hf");
            Exporter ex = new Exporter(moe.trainer.model(), corpus.vocabulary());
            ex.writeHuggingFace(exported);
            ex.writeGguf(s.out().resolve("moe.gguf"));
            ModelRun mr = moe.run, dr = dense.run;
            Path report = s.out().resolve("report.html"), summary = s.out().resolve("summary.json");
            Result r = new Result(mr, dr, samples, report, summary, exported);
            Files.writeString(report, HtmlReport.render(r, corpus.domains(), corpus.describe()));
            Files.writeString(summary, summaryJson(r, corpus.domains(), s));
            return r;
        } catch (IOException e) {
            throw new Moe4jException(s.out() + ": cannot write the report: " + e.getMessage(), e);
        }
    }

    private static String few(List<String> names) {
        return names.size() <= 3 ? String.join(", ", names) : String.join(", ", names.subList(0, 3)) + " and " + (names.size() - 3) + " more";
    }

    private record Trained(ModelRun run, Trainer trainer) {}

    private static Trained train(String name, ModelSpec spec, Settings s, BuiltinCorpus corpus, BiConsumer<String, Trainer.StepInfo> progress) {
        Trainer t = Trainer.create(spec, s.options(), corpus, "builtin", null);
        List<int[][]> loads = new ArrayList<>();
        int tokensPerStep = s.batch() * spec.seqLen();
        double[] stepSecs = new double[s.steps()];
        t.run(info -> {
            loads.add(info.loads());
            stepSecs[info.step() - 1] = tokensPerStep / info.tokensPerSecond();
            if (progress != null) progress.accept(name, info);
        });
        List<Trainer.StepInfo> h = t.history();
        // The median step: robust to JIT warm-up (the first model trained pays it) and to other processes' bursts.
        java.util.Arrays.sort(stepSecs);
        double median = stepSecs[stepSecs.length / 2];
        ModelRun run = new ModelRun(name, spec, t.model().totalParams(), t.model().activeParams(), t.model().flopsPerToken(),
                tokensPerStep / median, median * 1000, h.getLast().valLoss(), h, loads, t.routingReport());
        return new Trained(run, t);
    }

    static String summaryJson(Result r, List<String> domains, Settings s) {
        StringBuilder j = new StringBuilder("{\n  \"corpus\": \"built-in (" + String.join(", ", domains) + ")\",\n");
        j.append("  \"steps\": ").append(s.steps()).append(", \"batch\": ").append(s.batch()).append(", \"seq_len\": ").append(s.seqLen()).append(",\n");
        j.append("  \"step_time_ratio_moe_over_dense\": ").append(JsonOut.num(r.stepTimeRatio())).append(",\n  \"models\": {\n");
        ModelRun[] runs = {r.moe(), r.dense()};
        for (int i = 0; i < 2; i++) {
            ModelRun m = runs[i];
            j.append("    ").append(JsonOut.str(m.name())).append(": {\"total_params\": ").append(m.totalParams())
                    .append(", \"active_params\": ").append(m.activeParams()).append(", \"flops_per_token\": ").append(m.flopsPerToken())
                    .append(", \"tokens_per_second\": ").append(JsonOut.num(Math.round(m.tokensPerSecond())))
                    .append(", \"ms_per_step\": ").append(JsonOut.num(Math.round(m.msPerStep() * 10) / 10.0))
                    .append(", \"final_validation_loss\": ").append(JsonOut.num(m.finalValLoss()))
                    .append(", \"experts\": ").append(m.spec().experts()).append(", \"top_k\": ").append(m.spec().topK())
                    .append("}").append(i == 0 ? ",\n" : "\n");
        }
        j.append("  },\n  \"moe_layers\": [\n");
        var rep = r.moe().routing();
        for (int l = 0; l < rep.loads().length; l++) {
            j.append("    {\"layer\": ").append(l).append(", \"expert_loads\": ").append(java.util.Arrays.toString(rep.loads()[l]))
                    .append(", \"max_over_mean\": ").append(JsonOut.num(rep.maxOverMean()[l])).append(", \"domain_expert\": {");
            for (int d = 0; d < domains.size(); d++) {
                j.append(d == 0 ? "" : ", ").append(JsonOut.str(domains.get(d))).append(": ").append(java.util.Arrays.toString(rep.domainExpert()[l][d]));
            }
            j.append("}}").append(l + 1 < rep.loads().length ? ",\n" : "\n");
        }
        j.append("  ],\n  \"samples\": [\n");
        for (int i = 0; i < r.samples().size(); i++) {
            j.append("    {\"prompt\": ").append(JsonOut.str(r.samples().get(i)[0])).append(", \"completion\": ")
                    .append(JsonOut.str(r.samples().get(i)[1])).append("}").append(i + 1 < r.samples().size() ? ",\n" : "\n");
        }
        return j.append("  ]\n}\n").toString();
    }
}
