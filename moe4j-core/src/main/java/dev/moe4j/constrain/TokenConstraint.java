package dev.moe4j.constrain;

import java.util.Arrays;

/**
 * Constrained decoding for one sequence: which tokens may come next so that the text stays a prefix of something
 * the {@link Grammar} accepts, and can still be completed within the tokens left. One per generated sequence; not
 * thread-safe. Typical use, per step: {@link #mask} the logits row, sample, {@link #accept} the token, and stop
 * when {@link #finished()}.
 *
 * <p>The token budget: a token is allowed only if the fewest bytes that complete the text after it fit in the
 * tokens that may still follow (a vocabulary with a token for every single byte can always spell those out), so a
 * generation that reaches {@code max_tokens} has closed its value. An end token (EOS, end of turn) is allowed only
 * once the text is complete. Special tokens never are, except as end tokens.
 */
public final class TokenConstraint {
    private final Automaton automaton;
    private final TokenTrie trie;
    private final int[] endTokens;
    private final int[] nodeState;
    private final int[] stamp;
    private int mark;
    private int state;
    private boolean ended;

    /**
     * @param endTokens tokens that end generation (EOS, end of turn), allowed only when the text is complete
     */
    public TokenConstraint(Grammar grammar, TokenTrie trie, int[] endTokens) {
        this(new Automaton(grammar), trie, endTokens);
    }

    private TokenConstraint(Automaton automaton, TokenTrie trie, int[] endTokens) {
        this.automaton = automaton;
        this.trie = trie;
        this.endTokens = endTokens.clone();
        this.nodeState = new int[trie.size];
        this.stamp = new int[trie.vocab];
        this.state = automaton.start();
    }

    /**
     * Sets {@code logits[offset + t]} to negative infinity for every token {@code t < vocab} not allowed next (ids
     * past the tokenizer's vocabulary, as in a model with a padded output layer, never are). Returns how
     * many tokens stay allowed. When the budget leaves no token (a limit below what the grammar needs), the
     * grammar alone decides; when the grammar allows nothing either, only end tokens stay; 0 means none at all.
     *
     * @param budget tokens that may still follow the one being chosen ({@link Integer#MAX_VALUE}: no limit)
     */
    public int mask(float[] logits, int offset, int vocab, int budget) {
        if (++mark == Integer.MAX_VALUE) { Arrays.fill(stamp, 0); mark = 1; }
        int allowed = ended ? 0 : markAllowed(budget);
        if (allowed == 0 && !ended && budget != Integer.MAX_VALUE) allowed = markAllowed(Integer.MAX_VALUE);
        if (ended || automaton.accepting(state) || allowed == 0) {
            for (int t : endTokens) {
                if (t >= 0 && t < stamp.length && stamp[t] != mark) { stamp[t] = mark; allowed++; }
            }
        }
        int known = Math.min(vocab, trie.vocab);
        for (int t = 0; t < known; t++) if (stamp[t] != mark) logits[offset + t] = Float.NEGATIVE_INFINITY;
        for (int t = known; t < vocab; t++) logits[offset + t] = Float.NEGATIVE_INFINITY;
        return allowed;
    }

    /** Stamps the tokens the grammar allows from the current state within the budget; returns their count. */
    private int markAllowed(int budget) {
        int count = 0, m = mark;
        int[] ns = nodeState, parent = trie.parent, end = trie.end, first = trie.firstToken, next = trie.nextToken;
        byte[] edge = trie.edge;
        Automaton a = automaton;
        ns[0] = state;
        for (int i = 1, n = trie.size; i < n; ) {
            int s = a.next(ns[parent[i]], edge[i] & 0xFF);
            if (s == Automaton.DEAD) { i = end[i]; continue; }   // no token under this prefix fits
            ns[i] = s;
            if (first[i] >= 0 && a.minBytes(s) <= budget) {
                for (int t = first[i]; t >= 0; t = next[t]) { stamp[t] = m; count++; }
            }
            i++;
        }
        return count;
    }

    /**
     * Moves past a generated token.
     *
     * @throws IllegalStateException when the token is not allowed here (it was not masked out by {@link #mask})
     */
    public void accept(int token) {
        for (int t : endTokens) {
            if (t == token) {
                if (!automaton.accepting(state)) throw new IllegalStateException("end token " + token + " before the text is complete");
                ended = true;
                return;
            }
        }
        byte[] bytes = token >= 0 && token < trie.vocab ? trie.tokenBytes[token] : null;
        if (ended || bytes == null || bytes.length == 0) throw new IllegalStateException("token " + token + " is not allowed here");
        int s = state;
        for (byte b : bytes) {
            s = automaton.next(s, b & 0xFF);
            if (s == Automaton.DEAD) throw new IllegalStateException("token " + token + " does not continue the constrained text");
        }
        state = s;
    }

    /**
     * A fresh constraint (at the start of the text) for another sequence, sharing this one's grammar automaton and
     * the transitions it has cached (the n choices of one request). Use all constraints that share an automaton
     * on one thread.
     */
    public TokenConstraint another() {
        return new TokenConstraint(automaton, trie, endTokens);
    }

    /** Whether the text so far is complete: the grammar accepts it as it is. */
    public boolean complete() { return automaton.accepting(state); }

    /** Whether generation must end here: the text is complete and nothing can follow, or an end token came. */
    public boolean finished() { return ended || (automaton.accepting(state) && !automaton.continuable(state)); }

    /** Fewest bytes that complete the text from here (0 when complete). */
    public int minBytesLeft() { return automaton.minBytes(state); }

    /** Grammar states met so far (each caches its transitions): a measure of the work this constraint has cached. */
    public int statesSeen() { return automaton.stateCount(); }
}
