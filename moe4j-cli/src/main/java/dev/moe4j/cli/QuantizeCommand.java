package dev.moe4j.cli;

import dev.moe4j.tensor.DType;

/** Placeholder for the quantize command; holds the shared type parser. */
final class QuantizeCommand {
    private QuantizeCommand() {}

    static DType parseType(String name, boolean allowF16) {
        return switch (name.toLowerCase()) {
            case "q8_0" -> DType.Q8_0;
            case "q4_0" -> DType.Q4_0;
            case "q4_k" -> DType.Q4_K;
            case "q6_k" -> DType.Q6_K;
            case "f16" -> {
                if (!allowF16) throw new IllegalArgumentException("--type f16 is not a quantisation");
                yield DType.F16;
            }
            default -> throw new IllegalArgumentException("--type: unknown type '" + name + "' (q8_0, q4_0, q4_k, q6_k" + (allowF16 ? ", f16)" : ")"));
        };
    }
}
