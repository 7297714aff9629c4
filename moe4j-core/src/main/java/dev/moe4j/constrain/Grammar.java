package dev.moe4j.constrain;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A context-free grammar over bytes, in the form llama.cpp's GBNF grammars take after parsing: rules, each a list
 * of alternatives, each a sequence of elements that are byte sets or references to rules. Matching
 * ({@link Automaton}) keeps a set of stacks of positions, so rules must not be left-recursive (the builders here
 * only make right recursion and bounded repetition).
 *
 * <p>Layout: {@code code} holds every alternative's elements followed by {@link #END}; an element {@code >= 0} is
 * the index of a byte set, {@code < 0} the reference {@code -(rule + 1)}. Immutable once built.
 */
public final class Grammar {
    static final int END = Integer.MIN_VALUE;
    static final int INFINITE = Integer.MAX_VALUE / 4;

    final int[] code;
    final int[][] alternatives;   // rule → start positions of its alternatives in code
    final long[][] byteSets;      // set → 4 words of 64 bits
    final int root;
    /** Fewest bytes that complete the alternative from each position (the element there included). */
    final int[] minBytesFrom;
    final String[] ruleNames;

    private Grammar(int[] code, int[][] alternatives, long[][] byteSets, int root, String[] ruleNames) {
        this.code = code;
        this.alternatives = alternatives;
        this.byteSets = byteSets;
        this.root = root;
        this.ruleNames = ruleNames;
        int[] ruleMin = new int[alternatives.length];
        Arrays.fill(ruleMin, INFINITE);
        this.minBytesFrom = new int[code.length];
        // Bellman-Ford style: a rule's shortest expansion only shrinks; stops when nothing changes.
        for (boolean changed = true; changed; ) {
            changed = false;
            for (int r = 0; r < alternatives.length; r++) {
                for (int start : alternatives[r]) {
                    int m = fromPosition(start, ruleMin);
                    if (m < ruleMin[r]) { ruleMin[r] = m; changed = true; }
                }
            }
        }
        if (ruleMin[root] >= INFINITE) throw new IllegalArgumentException("the grammar's root rule has no finite text");
        for (int p = code.length - 1; p >= 0; p--) {
            int e = code[p];
            minBytesFrom[p] = e == END ? 0 : Math.min(INFINITE, (e >= 0 ? 1 : ruleMin[-e - 1]) + minBytesFrom[p + 1]);
        }
    }

    private int fromPosition(int p, int[] ruleMin) {
        int sum = 0;
        for (; code[p] != END; p++) sum = Math.min(INFINITE, sum + (code[p] >= 0 ? 1 : ruleMin[-code[p] - 1]));
        return sum;
    }

    /** Fewest bytes of any text the grammar accepts. */
    public int minBytes() {
        int best = INFINITE;
        for (int start : alternatives[root]) best = Math.min(best, minBytesFrom[start]);
        return best;
    }

    public int rules() { return alternatives.length; }

    boolean contains(int set, int b) {
        return (byteSets[set][b >>> 6] >>> (b & 63) & 1) != 0;
    }

    /**
     * Builds a grammar. Elements are ints: {@link #set} and {@link #bytes} give byte-set elements, {@link #ref} a
     * reference; {@link #rule} declares a rule (so it can be referenced before its alternatives exist) and
     * {@link #alt} adds an alternative to it. Helpers build the usual derived forms without left recursion.
     */
    public static final class Builder {
        /** Most rules one grammar may have: a bound on what one request can make the server build. */
        public static final int MAX_RULES = 200_000;
        private final List<String> names = new ArrayList<>();
        private final List<List<int[]>> rules = new ArrayList<>();
        private final List<long[]> sets = new ArrayList<>();
        private final java.util.Map<String, Integer> setIndex = new java.util.HashMap<>();

        /** Declares a new rule with no alternatives yet; returns its number. Throws {@link SchemaException} past {@link #MAX_RULES}. */
        public int rule(String name) {
            if (rules.size() >= MAX_RULES) {
                throw new SchemaException("", "", "too large: it needs more than " + MAX_RULES + " grammar rules (lower maxLength, maxItems or repetition bounds)");
            }
            names.add(name);
            rules.add(new ArrayList<>());
            return rules.size() - 1;
        }

        /** Adds an alternative (a sequence of elements; empty is ε) to {@code rule}. */
        public Builder alt(int rule, int... elements) {
            rules.get(rule).add(elements.clone());
            return this;
        }

        /** A reference to {@code rule}, as an element. */
        public int ref(int rule) {
            return -(rule + 1);
        }

        /** The element matching one byte of the inclusive ranges {@code lo0, hi0, lo1, hi1, ...} (0..255). */
        public int set(int... ranges) {
            long[] bits = new long[4];
            for (int i = 0; i + 1 < ranges.length; i += 2) {
                for (int b = ranges[i]; b <= ranges[i + 1]; b++) bits[b >>> 6] |= 1L << (b & 63);
            }
            return set(bits);
        }

        int set(long[] bits) {
            String key = Arrays.toString(bits);
            Integer known = setIndex.get(key);
            if (known != null) return known;
            sets.add(bits);
            setIndex.put(key, sets.size() - 1);
            return sets.size() - 1;
        }

        /** The elements matching exactly these bytes, one after the other. */
        public int[] bytes(byte[] text) {
            int[] out = new int[text.length];
            for (int i = 0; i < text.length; i++) out[i] = set(text[i] & 0xFF, text[i] & 0xFF);
            return out;
        }

        /** The elements matching exactly the UTF-8 of {@code text}. */
        public int[] text(String text) {
            return bytes(text.getBytes(StandardCharsets.UTF_8));
        }

        /** A new rule with the given alternatives; returns a reference element to it. */
        public int choice(String name, int[]... alternatives) {
            int r = rule(name);
            for (int[] a : alternatives) alt(r, a);
            return ref(r);
        }

        /** The elements of the parts one after the other. */
        public static int[] seq(Object... parts) {
            int n = 0;
            for (Object p : parts) n += p instanceof int[] a ? a.length : 1;
            int[] out = new int[n];
            int i = 0;
            for (Object p : parts) {
                if (p instanceof int[] a) { System.arraycopy(a, 0, out, i, a.length); i += a.length; }
                else out[i++] = (Integer) p;
            }
            return out;
        }

        /**
         * {@code item} repeated between {@code min} and {@code max} times ({@code max < 0}: unbounded), as a reference
         * element. The optional part is right-nested ({@code O_k := item O_(k-1) | ε}), so matching never grows
         * the stack by more than one item's depth; {@code item} must not match the empty text when unbounded.
         */
        public int repeat(String name, int[] item, int min, int max) {
            Integer tail = null;
            if (max < 0) {
                int r = rule(name + "*");
                alt(r, seq(item, ref(r)));
                alt(r);
                tail = ref(r);
            } else {
                for (int k = 1; k <= max - min; k++) {
                    int r = rule(name + "?" + k);
                    alt(r, tail == null ? item : seq(item, tail));
                    alt(r);
                    tail = ref(r);
                }
            }
            int r = rule(name);
            int[] body = new int[0];
            for (int i = 0; i < min; i++) body = seq(body, item);
            alt(r, tail == null ? body : seq(body, tail));
            return ref(r);
        }

        /** {@code item (separator item){min-1, max-1}}, or also nothing when {@code min == 0}; max < 0: unbounded. */
        public int separated(String name, int[] item, int[] separator, int min, int max) {
            if (max == 0) return choice(name, new int[0]);
            int rest = repeat(name + ".rest", seq(separator, item), Math.max(0, min - 1), max < 0 ? -1 : max - 1);
            int r = rule(name);
            alt(r, seq(item, rest));
            if (min == 0) alt(r);
            return ref(r);
        }

        /** The grammar whose start rule is {@code root}. Throws when a rule has no alternative. */
        public Grammar build(int root) {
            List<Integer> code = new ArrayList<>();
            int[][] alts = new int[rules.size()][];
            for (int r = 0; r < rules.size(); r++) {
                List<int[]> rs = rules.get(r);
                if (rs.isEmpty()) throw new IllegalStateException("grammar rule '" + names.get(r) + "' has no alternative");
                alts[r] = new int[rs.size()];
                for (int a = 0; a < rs.size(); a++) {
                    alts[r][a] = code.size();
                    for (int e : rs.get(a)) code.add(e);
                    code.add(END);
                }
            }
            return new Grammar(code.stream().mapToInt(Integer::intValue).toArray(), alts, sets.toArray(long[][]::new), root,
                    names.toArray(String[]::new));
        }
    }
}
