package dev.moe4j.constrain;

import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * Runs a {@link Grammar} one byte at a time as a pushdown automaton, the way llama.cpp's grammar sampler does: a
 * state is the set of stacks the text so far can be in, each stack a list of grammar positions whose top is a byte
 * set. Stacks and states are interned into small ints and each state's transitions are cached in a 256-entry row
 * on first use, so after warm-up a byte costs two array reads; that is what makes the per-token mask over a
 * tokenizer's trie ({@link TokenTrie}) cheap. Not thread-safe.
 */
final class Automaton {
    /** The state with no stacks: the text cannot be continued to anything the grammar accepts. */
    static final int DEAD = 0;
    private static final int UNKNOWN = -1;
    /** The empty stack: everything matched so far forms a complete text. */
    private static final int EMPTY = 0;

    private final Grammar g;
    // Stack nodes: top position and the node below it; node 0 is the empty stack.
    private int[] nodePos = new int[256], nodeParent = new int[256], nodeMin = new int[256];
    private int nodes = 1;
    private final Map<Long, Integer> nodeIndex = new HashMap<>();
    // States: sorted arrays of stack nodes; state 0 is DEAD.
    private int[][] stateStacks = new int[64][];
    private int[][] transitions = new int[64][];
    private int[] stateMin = new int[64];
    private boolean[] accepting = new boolean[64], continuable = new boolean[64];
    private int states = 1;
    private final Map<Key, Integer> stateIndex = new HashMap<>();
    private final int start;

    private record Key(int[] stacks) {
        @Override public boolean equals(Object o) { return o instanceof Key k && Arrays.equals(stacks, k.stacks); }
        @Override public int hashCode() { return Arrays.hashCode(stacks); }
    }

    Automaton(Grammar grammar) {
        this.g = grammar;
        stateStacks[DEAD] = new int[0];
        stateMin[DEAD] = Grammar.INFINITE;
        stateIndex.put(new Key(stateStacks[DEAD]), DEAD);
        Set<Integer> out = new HashSet<>();
        Set<Long> seen = new HashSet<>();
        for (int a : g.alternatives[g.root]) expand(a, EMPTY, out, seen);
        this.start = intern(out);
    }

    int start() { return start; }

    /** The state after byte {@code b} (0..255) from {@code state}; {@link #DEAD} when no stack takes it. */
    int next(int state, int b) {
        int[] row = transitions[state];
        if (row != null) {
            int known = row[b];
            if (known != UNKNOWN) return known;
        } else {
            row = transitions[state] = new int[256];
            Arrays.fill(row, UNKNOWN);
        }
        int result = advance(state, b);
        transitions[state][b] = result;   // the row may have moved when the tables grew
        return result;
    }

    /** Whether the text so far is complete (one of its stacks is empty). */
    boolean accepting(int state) { return accepting[state]; }

    /** Whether some byte can still follow. */
    boolean continuable(int state) { return continuable[state]; }

    /** Fewest bytes that complete the text from this state ({@link Grammar#INFINITE} for DEAD). */
    int minBytes(int state) { return stateMin[state]; }

    int stateCount() { return states; }

    private int advance(int state, int b) {
        Set<Integer> out = new HashSet<>();
        Set<Long> seen = new HashSet<>();
        for (int node : stateStacks[state]) {
            if (node == EMPTY) continue;
            int pos = nodePos[node];
            if (g.contains(g.code[pos], b)) expand(pos + 1, nodeParent[node], out, seen);
        }
        return out.isEmpty() ? DEAD : intern(out);
    }

    /**
     * Adds to {@code out} every stack whose top is a byte set, reachable from position {@code pos} above stack
     * {@code parent} without reading a byte: rule references expand into their alternatives (with the position after
     * the reference pushed, unless that is the end of its alternative: a tail call), ends of alternatives pop.
     * {@code seen} cuts cycles through rules that match the empty text.
     */
    private void expand(int pos, int parent, Set<Integer> out, Set<Long> seen) {
        if (!seen.add(((long) pos << 32) | parent)) return;
        int e = g.code[pos];
        if (e == Grammar.END) {
            if (parent == EMPTY) out.add(EMPTY);
            else expand(nodePos[parent], nodeParent[parent], out, seen);
        } else if (e >= 0) {
            out.add(node(pos, parent));
        } else {
            int after = pos + 1;
            int below = g.code[after] == Grammar.END ? parent : node(after, parent);
            for (int a : g.alternatives[-e - 1]) expand(a, below, out, seen);
        }
    }

    private int node(int pos, int parent) {
        long key = ((long) pos << 32) | parent;
        Integer known = nodeIndex.get(key);
        if (known != null) return known;
        if (nodes == nodePos.length) {
            nodePos = Arrays.copyOf(nodePos, nodes * 2);
            nodeParent = Arrays.copyOf(nodeParent, nodes * 2);
            nodeMin = Arrays.copyOf(nodeMin, nodes * 2);
        }
        nodePos[nodes] = pos;
        nodeParent[nodes] = parent;
        nodeMin[nodes] = Math.min(Grammar.INFINITE, g.minBytesFrom[pos] + nodeMin[parent]);
        nodeIndex.put(key, nodes);
        return nodes++;
    }

    private int intern(Set<Integer> stacks) {
        int[] sorted = stacks.stream().mapToInt(Integer::intValue).sorted().toArray();
        Key key = new Key(sorted);
        Integer known = stateIndex.get(key);
        if (known != null) return known;
        if (states == stateStacks.length) {
            int n = states * 2;
            stateStacks = Arrays.copyOf(stateStacks, n);
            transitions = Arrays.copyOf(transitions, n);
            stateMin = Arrays.copyOf(stateMin, n);
            accepting = Arrays.copyOf(accepting, n);
            continuable = Arrays.copyOf(continuable, n);
        }
        int s = states++;
        stateStacks[s] = sorted;
        int min = Grammar.INFINITE;
        for (int node : sorted) {
            min = Math.min(min, nodeMin[node]);
            if (node == EMPTY) accepting[s] = true;
            else continuable[s] = true;
        }
        stateMin[s] = min;
        stateIndex.put(key, s);
        return s;
    }
}
