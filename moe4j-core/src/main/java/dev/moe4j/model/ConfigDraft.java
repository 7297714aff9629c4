package dev.moe4j.model;

import java.util.EnumMap;
import java.util.Map;

/**
 * The hyper-parameters of a checkpoint while they are being read: a config reader fills what every family has, the
 * family's hooks ({@link Architecture#readHf}, {@link Architecture#readGguf}) add or adjust what only it has, and
 * {@link #build} checks the whole as a {@link ModelConfig}. {@link #keys} remembers which file key each value came
 * from, so that an invalid one is reported under the key the user can fix.
 */
final class ConfigDraft {
    final Architecture arch;
    final Map<ModelConfig.Field, String> keys;
    int vocab, hidden, layers, heads, kvHeads, headDim, context, experts, topK, expertFfn, sharedFfn, denseFfn;
    float normEps;
    double ropeTheta;
    RopeStyle ropeStyle = RopeStyle.HALF;
    RopeScaling ropeScaling = RopeScaling.NONE;
    boolean renormalize, sharedGated, tied;
    boolean[] dense;
    // What only some families have: latent attention, sliding windows, expert groups, a clamped SwiGLU.
    ModelConfig.Mla mla;
    int slidingWindow;
    boolean[] slidingLayers;
    int groups = 1, groupsKept = 1;
    float routedScale = 1f, swigluAlpha, swigluLimit;

    ConfigDraft(Architecture arch, Map<ModelConfig.Field, String> keys) {
        this.arch = arch;
        this.keys = new EnumMap<>(keys);
    }

    /** @throws ModelConfig.Invalid for a value no model can have (the reader reports it under {@code keys}) */
    ModelConfig build() {
        return new ModelConfig(arch, vocab, hidden, layers, context, normEps, tied,
                new ModelConfig.AttentionSpec(heads, kvHeads, headDim, ropeTheta, ropeStyle, mla, slidingWindow, slidingLayers,
                        ropeScaling),
                new ModelConfig.MoeSpec(experts, topK, expertFfn, renormalize, sharedFfn, sharedGated, groups, groupsKept,
                        routedScale, swigluAlpha, swigluLimit),
                new ModelConfig.DenseSpec(denseFfn, dense));
    }
}
