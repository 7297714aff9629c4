package dev.moe4j.serve;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class StopMatcherTest {
    @Test
    void holdsBackAPossibleStopAndCutsAtIt() {
        StopMatcher m = new StopMatcher(List.of("\nUser:"));
        assertEquals("Hello", m.add("Hello\nUs"));
        assertEquals("", m.add("e"));
        assertEquals("", m.add("r: more"));
        assertTrue(m.stopped());
        assertEquals("", m.flush());
    }

    @Test
    void releasesTextThatTurnsOutNotToBeAStop() {
        StopMatcher m = new StopMatcher(List.of("END", "\n\n"));
        assertEquals("a", m.add("a\n"));
        assertEquals("\nb ", m.add("b EN"));  // "\nb" no longer starts a stop; "EN" might
        assertEquals("", m.add(""));
        assertEquals("ENN", m.add("N"));
        assertFalse(m.stopped());
        assertEquals("", m.flush());
    }

    @Test
    void earliestStopWins() {
        StopMatcher m = new StopMatcher(List.of("xyz", "b"));
        assertEquals("a", m.add("abxyz"));
        assertTrue(m.stopped());
    }
}
