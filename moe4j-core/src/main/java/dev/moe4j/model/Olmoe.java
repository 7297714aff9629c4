package dev.moe4j.model;

/** OLMoE ({@code olmoe}): an RMSNorm over the whole q and k projections, top-k weights not renormalised. */
final class Olmoe extends Architecture {
    Olmoe() {
        super("olmoe", "olmoe", QkNorm.WHOLE, false);
    }
}
