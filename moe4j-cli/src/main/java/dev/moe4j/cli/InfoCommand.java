package dev.moe4j.cli;

import dev.moe4j.model.Model;
import dev.moe4j.model.ModelConfig;
import dev.moe4j.model.ParameterCount;
import dev.moe4j.tensor.DType;
import dev.moe4j.tensor.Tensor;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.PrintWriter;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "info", mixinStandardHelpOptions = true,
        description = "Show a model's architecture, sizes, tensor types and total vs active parameters per token.")
final class InfoCommand implements Callable<Integer> {
    @Mixin ModelOptions opts;
    @Spec CommandSpec spec;

    @Override
    public Integer call() {
        try (Model m = opts.open()) {
            PrintWriter out = spec.commandLine().getOut();
            ModelConfig c = m.config();
            ParameterCount p = ParameterCount.of(c);
            out.printf("model          %s (%s)%n", m.source(), m.format() == Model.Format.GGUF ? "GGUF" : "Hugging Face safetensors");
            out.printf("architecture   %s%n", c.architecture().hfModelType);
            out.printf("layers         %d (%d MoE, %d dense)%n", c.layers(), countMoe(c), c.layers() - countMoe(c));
            out.printf("hidden         %d%n", c.hidden());
            out.printf("heads          %d query, %d key/value, head dim %d%n", c.heads(), c.kvHeads(), c.headDim());
            out.printf("experts        %d routed, top-%d, expert width %d, weights %s%n", c.experts(), c.topK(), c.expertFfn(),
                    c.renormalizeTopK() ? "renormalised" : "not renormalised");
            out.printf("shared experts %s%n", c.sharedExpertFfn() == 0 ? "none" : "1 of width " + c.sharedExpertFfn() + (c.sharedExpertGated() ? ", sigmoid-gated" : ""));
            ModelConfig.Extras x = c.extras();
            if (x.groups() > 1) out.printf("routing        sigmoid scores, top-%d of %d expert groups, weights x %.3g%n", x.groupsKept(), x.groups(), x.routedScale());
            if (x.mla() != null) out.printf("attention      latent (MLA): kv rank %d, q rank %d, head dims %d+%d rope, value %d%n",
                    x.mla().kvLoraRank(), x.mla().qLoraRank(), x.mla().nopeDim(), x.mla().ropeDim(), x.mla().vDim());
            if (x.slidingLayers() != null) out.printf("attention      sliding window %d on %d of %d layers, attention sinks%n",
                    x.slidingWindow(), countTrue(x.slidingLayers()), c.layers());
            out.printf("vocabulary     %d%n", c.vocabSize());
            out.printf("context length %d%n", c.contextLength());
            out.printf("rope           theta %.1f, %s%n", c.ropeTheta(), c.ropeStyle() == dev.moe4j.model.RopeStyle.HALF ? "rotate-half pairs" : "adjacent pairs");
            out.printf("tensor types   %s%n", tensorTypes(m));
            out.printf("parameters     %s total, %s active per token (%.1f%%)%n", ParameterCount.human(p.total()),
                    ParameterCount.human(p.active()), 100.0 * p.active() / p.total());
        }
        return 0;
    }

    private static int countTrue(boolean[] b) {
        int n = 0;
        for (boolean v : b) if (v) n++;
        return n;
    }

    private static int countMoe(ModelConfig c) {
        int n = 0;
        for (int l = 0; l < c.layers(); l++) if (!c.isDense(l)) n++;
        return n;
    }

    private static String tensorTypes(Model m) {
        Map<DType, long[]> counts = new EnumMap<>(DType.class);
        for (String name : m.store().names()) {
            Tensor t = m.store().find(name).orElseThrow();
            long[] c = counts.computeIfAbsent(t.dtype(), k -> new long[2]);
            c[0]++;
            c[1] += t.elementCount();
        }
        StringBuilder b = new StringBuilder();
        counts.forEach((t, c) -> b.append(b.isEmpty() ? "" : ", ").append(t).append(" (").append(c[0]).append(" tensors, ")
                .append(ParameterCount.human(c[1])).append(")"));
        return b.toString();
    }
}
