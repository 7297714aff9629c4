package dev.moe4j.constrain;

import dev.moe4j.tokenizer.Tokenizer;

import java.util.Arrays;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * A tokenizer's token byte strings as a trie laid out in preorder, built once per tokenizer ({@link #of}). In
 * preorder a node's subtree is the index range {@code [node, end[node])}, so the mask walk is one loop that skips
 * a whole subtree as soon as the grammar rejects its prefix: tokens sharing a prefix share its grammar steps.
 * Special tokens and tokens with no bytes are left out (a constraint never allows them; end tokens are decided
 * apart). Immutable, shareable between threads.
 */
public final class TokenTrie {
    private static final Map<Tokenizer, TokenTrie> CACHE = new WeakHashMap<>();

    final int vocab;
    final int size;             // nodes; node 0 is the root (no byte)
    final int[] parent, end;
    final byte[] edge;          // the byte leading into each node
    final int[] firstToken;     // tokens whose bytes end at the node: a list through nextToken, -1 ends it
    final int[] nextToken;      // indexed by token id
    final byte[][] tokenBytes;  // by token id; null for left-out tokens

    private TokenTrie(byte[][] bytes) {
        this.vocab = bytes.length;
        this.tokenBytes = bytes;
        Integer[] order = new Integer[bytes.length];
        int kept = 0;
        for (int i = 0; i < bytes.length; i++) if (bytes[i] != null && bytes[i].length > 0) order[kept++] = i;
        order = Arrays.copyOf(order, kept);
        Arrays.sort(order, (a, b) -> Arrays.compareUnsigned(bytes[a], bytes[b]));
        int capacity = 1;
        for (Integer t : order) capacity += bytes[t].length;   // an upper bound on the node count
        int[] par = new int[capacity], ends = new int[capacity], first = new int[capacity];
        byte[] edges = new byte[capacity];
        Arrays.fill(first, -1);
        nextToken = new int[bytes.length];
        Arrays.fill(nextToken, -1);
        int[] path = new int[64];   // path[d] = node at depth d on the current branch
        int depth = 0, n = 1;
        byte[] previous = new byte[0];
        for (int t : order) {
            byte[] s = bytes[t];
            int common = Math.min(depth, Arrays.mismatch(previous, s) < 0 ? previous.length : Arrays.mismatch(previous, s));
            while (depth > common) ends[path[depth--]] = n;   // leaving these subtrees
            for (int d = common; d < s.length; d++) {
                if (depth + 1 >= path.length) path = Arrays.copyOf(path, path.length * 2);
                par[n] = path[depth];
                edges[n] = s[d];
                path[++depth] = n++;
            }
            int node = path[depth];
            nextToken[t] = first[node];
            first[node] = t;
            previous = s;
        }
        while (depth > 0) ends[path[depth--]] = n;
        ends[0] = n;
        this.size = n;
        this.parent = Arrays.copyOf(par, n);
        this.end = Arrays.copyOf(ends, n);
        this.edge = Arrays.copyOf(edges, n);
        this.firstToken = Arrays.copyOf(first, n);
    }

    /**
     * The trie of {@code tokenBytes} (indexed by token id; null or empty: never allowed by a constraint).
     */
    public static TokenTrie of(byte[][] tokenBytes) {
        return new TokenTrie(tokenBytes.clone());
    }

    /** The trie of a tokenizer's non-special tokens, built on first use and kept while the tokenizer lives. */
    public static TokenTrie of(Tokenizer tokenizer) {
        synchronized (CACHE) {
            TokenTrie known = CACHE.get(tokenizer);
            if (known != null) return known;
        }
        byte[][] bytes = new byte[tokenizer.vocabSize()][];
        for (int id = 0; id < bytes.length; id++) if (!tokenizer.isSpecial(id)) bytes[id] = tokenizer.tokenBytes(id);
        TokenTrie trie = new TokenTrie(bytes);
        synchronized (CACHE) {
            CACHE.put(tokenizer, trie);
        }
        return trie;
    }

    /** Tokens in the vocabulary (the ids a mask covers). */
    public int vocabSize() { return vocab; }

    /** Trie nodes, the root included: the most grammar steps one mask can take. */
    public int nodes() { return size; }
}
