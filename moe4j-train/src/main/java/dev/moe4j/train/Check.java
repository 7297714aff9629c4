package dev.moe4j.train;

/**
 * Range checks for the settings of a run. Each names its field as the command line and the checkpoint spell it
 * ({@code ffn}, {@code weight-decay}), so the same message serves a bad option and a bad checkpoint field.
 * All throw {@link InvalidSettingException}.
 */
final class Check {
    private Check() {}

    static int atLeast(String field, int value, int min) {
        if (value < min) throw InvalidSettingException.of(field, value, "must be at least " + min);
        return value;
    }

    static long atLeast(String field, long value, long min) {
        if (value < min) throw InvalidSettingException.of(field, value, "must be at least " + min);
        return value;
    }

    /** A finite number ≥ {@code min}. */
    static double atLeast(String field, double value, double min) {
        if (!Double.isFinite(value) || value < min) {
            throw InvalidSettingException.of(field, value, "must be a finite number >= " + min);
        }
        return value;
    }

    /** A finite number > 0. */
    static double positive(String field, double value) {
        if (!Double.isFinite(value) || value <= 0) {
            throw InvalidSettingException.of(field, value, "must be a finite number > 0");
        }
        return value;
    }

    /** A finite number in [{@code min}, {@code max}]. */
    static double between(String field, double value, double min, double max) {
        if (!Double.isFinite(value) || value < min || value > max) {
            throw InvalidSettingException.of(field, value, "must be between " + min + " and " + max);
        }
        return value;
    }
}
