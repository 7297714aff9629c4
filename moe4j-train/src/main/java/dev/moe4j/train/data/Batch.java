package dev.moe4j.train.data;

/**
 * {@code b} sequences of {@code t} tokens: inputs, next-token targets, and the domain of each sequence
 * ({@code -1} when the data has no labels).
 */
public record Batch(int b, int t, int[] inputs, int[] targets, int[] domains) {}
