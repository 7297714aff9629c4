package dev.moe4j.chat;

import java.util.List;

/**
 * Streamed text searched for markers: text that may still turn out to be the start of a marker is held
 * back until the next piece shows whether it is one.
 */
final class HeldText {
    private final StringBuilder pending = new StringBuilder();

    void add(String text) { pending.append(text); }

    boolean isEmpty() { return pending.isEmpty(); }

    /** The earliest of {@code markers} in the pending text: its index and which, or null. */
    Found find(List<String> markers) {
        Found best = null;
        for (String m : markers) {
            int i = pending.indexOf(m);
            if (i >= 0 && (best == null || i < best.at())) best = new Found(i, m);
        }
        return best;
    }

    record Found(int at, String marker) {}

    /** Removes and returns the text before {@code at}, and drops the marker after it. */
    String cut(Found f) {
        String before = pending.substring(0, f.at());
        pending.delete(0, f.at() + f.marker().length());
        return before;
    }

    /** Removes and returns what is surely not the start of a marker. */
    String safe(List<String> markers) {
        int keep = 0;
        for (String m : markers) {
            for (int n = Math.min(m.length() - 1, pending.length()); n > keep; n--) {
                if (pending.toString().regionMatches(pending.length() - n, m, 0, n)) { keep = n; break; }
            }
        }
        String out = pending.substring(0, pending.length() - keep);
        pending.delete(0, pending.length() - keep);
        return out;
    }

    /** Removes and returns everything. */
    String all() {
        String out = pending.toString();
        pending.setLength(0);
        return out;
    }
}
