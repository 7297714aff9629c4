package dev.moe4j.kernel;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The pool refuses thread counts outside 1..maxThreads() before starting any thread, and keeps the pool it had. */
class ParallelLimitsTest {
    @Test
    void outOfRangeCountsAreRefusedWithTheBound() {
        int before = Parallel.threads(), max = Parallel.maxThreads();
        assertEquals(4 * Runtime.getRuntime().availableProcessors(), max);
        long threadsBefore = Thread.getAllStackTraces().size();
        for (int bad : new int[] {0, -3, max + 1, 100_000, Integer.MAX_VALUE}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Parallel.setThreads(bad));
            assertTrue(e.getMessage().startsWith("threads: " + bad + " is "), e.getMessage());
            if (bad > max) assertTrue(e.getMessage().contains("more than " + max), e.getMessage());
            assertEquals(before, Parallel.threads(), "the pool is unchanged after " + bad);
        }
        assertTrue(Thread.getAllStackTraces().size() < threadsBefore + 16, "no threads were started for the refused counts");
        int[] hits = new int[64];
        Parallel.run(hits.length, c -> hits[c]++);
        for (int h : hits) assertEquals(1, h, "the old pool still runs jobs");
    }

    @Test
    void theBoundItselfIsAccepted() {
        int before = Parallel.threads();
        try {
            Parallel.setThreads(Parallel.maxThreads());
            assertEquals(Parallel.maxThreads(), Parallel.threads());
            int[] hits = new int[100];
            Parallel.run(hits.length, c -> hits[c]++);
            for (int h : hits) assertEquals(1, h);
        } finally {
            Parallel.setThreads(before);
        }
    }
}
