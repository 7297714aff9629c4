package dev.moe4j.cli;

import dev.moe4j.model.Model;
import dev.moe4j.model.ModelConfig;
import dev.moe4j.model.ParameterCount;
import dev.moe4j.tensor.DType;
import dev.moe4j.tensor.Tensor;
import dev.moe4j.util.Units;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.PrintWriter;
import java.util.EnumMap;
import java.util.Locale;
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
            out.printf(Locale.ROOT, "model          %s (%s)%n", m.source(), m.format() == Model.Format.GGUF ? "GGUF" : "Hugging Face safetensors");
            out.printf(Locale.ROOT, "architecture   %s%n", c.architecture().hfModelType);
            out.printf(Locale.ROOT, "layers         %d (%d MoE, %d dense)%n", c.layers(), countMoe(c), c.layers() - countMoe(c));
            out.printf(Locale.ROOT, "hidden         %d%n", c.hidden());
            out.printf(Locale.ROOT, "heads          %d query, %d key/value, head dim %d%n", c.heads(), c.kvHeads(), c.headDim());
            out.printf(Locale.ROOT, "experts        %d routed, top-%d, expert width %d, weights %s%n", c.experts(), c.topK(), c.expertFfn(),
                    c.renormalizeTopK() ? "renormalised" : "not renormalised");
            out.printf(Locale.ROOT, "shared experts %s%n", c.sharedExpertFfn() == 0 ? "none" : "1 of width " + c.sharedExpertFfn() + (c.sharedExpertGated() ? ", sigmoid-gated" : ""));
            ModelConfig.AttentionSpec x = c.attention();
            ModelConfig.MoeSpec moe = c.moe();
            if (moe.groups() > 1) out.printf(Locale.ROOT, "routing        sigmoid scores, top-%d of %d expert groups, weights x %.3g%n", moe.groupsKept(), moe.groups(), moe.routedScale());
            if (x.mla() != null) out.printf(Locale.ROOT, "attention      latent (MLA): kv rank %d, q rank %d, head dims %d+%d rope, value %d%n",
                    x.mla().kvLoraRank(), x.mla().qLoraRank(), x.mla().nopeDim(), x.mla().ropeDim(), x.mla().vDim());
            if (x.slidingLayers() != null) out.printf(Locale.ROOT, "attention      sliding window %d on %d of %d layers, attention sinks%n",
                    x.slidingWindow(), countTrue(x.slidingLayers()), c.layers());
            out.printf(Locale.ROOT, "vocabulary     %d%n", c.vocabSize());
            out.printf(Locale.ROOT, "context length %d%n", c.contextLength());
            out.printf(Locale.ROOT, "rope           theta %.1f, %s%s%n", c.ropeTheta(), c.ropeStyle() == dev.moe4j.model.RopeStyle.HALF ? "rotate-half pairs" : "adjacent pairs",
                    c.ropeScaling().type() == dev.moe4j.model.RopeScaling.Type.NONE ? "" : ", scaling " + c.ropeScaling());
            out.printf(Locale.ROOT, "tensor types   %s%n", tensorTypes(m));
            out.printf(Locale.ROOT, "parameters     %s total, %s active per token (%.1f %%)%n",
                    Units.count(p.total()), Units.count(p.active()), 100.0 * p.active() / p.total());
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

    /** Per type: tensors, parameters and bytes, e.g. "Q8_0 (291 tensors, 6.92 B parameters, 6.85 GiB)". */
    private static String tensorTypes(Model m) {
        Map<DType, long[]> counts = new EnumMap<>(DType.class);
        for (String name : m.store().names()) {
            Tensor t = m.store().find(name).orElseThrow();
            long[] c = counts.computeIfAbsent(t.dtype(), k -> new long[3]);
            c[0]++;
            c[1] += t.elementCount();
            c[2] += t.data().byteSize();
        }
        StringBuilder b = new StringBuilder();
        counts.forEach((t, c) -> b.append(b.isEmpty() ? "" : ", ").append(t).append(" (").append(c[0]).append(" tensors, ")
                .append(Units.count(c[1])).append(" parameters, ").append(Units.bytes(c[2])).append(")"));
        return b.toString();
    }
}
