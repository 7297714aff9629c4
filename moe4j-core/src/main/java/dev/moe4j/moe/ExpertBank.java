package dev.moe4j.moe;

/**
 * Holds every expert of one layer and computes one expert over a block of rows. Implementations may
 * read weights from a memory-mapped file, a cache, or another machine.
 */
public interface ExpertBank {
    int experts();

    int inputDim();

    int hiddenDim();

    /** out[rows, inputDim] = Expert_e(x[rows, inputDim]). */
    void forward(int expert, float[] x, int rows, float[] out);
}
