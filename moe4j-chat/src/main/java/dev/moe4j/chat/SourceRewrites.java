package dev.moe4j.chat;

/**
 * The two places where Jinjava's expression parser reads real chat templates differently from Python jinja2,
 * which no resolver, filter or function can change, so the template text is adjusted before Jinjava parses it:
 * <ul>
 *   <li>{@code x[::-1]} (a slice with a step; Qwen3 walks its messages backwards with it) becomes
 *       {@code x.moe4j_reversed()}, which {@link PythonMethods} answers;</li>
 *   <li>a keyword argument's value is parenthesised: {@code namespace(last=messages|length - 1)} is
 *       {@code namespace(last=(messages|length - 1))} in jinja2, but Jinjava binds {@code last=messages|length}
 *       first and then fails to subtract 1 from it (not in {@code macro} signatures, which Jinjava reads itself);</li>
 *   <li>{@code not x is defined} is {@code not (x is defined)} in jinja2 (tests bind tighter than {@code not}),
 *       but {@code (not x) is defined} in Jinjava: the test is parenthesised with its operand.</li>
 * </ul>
 * Only text inside {@code {{ }}} and {@code {% %}} is touched, and string literals there are left as they are.
 *
 * <p>Also jinja2's {@code lstrip_blocks} is applied here rather than by Jinjava, whose version also strips the
 * spaces between text and a block tag on the same line ({@code "Tools: {% for"} lost its space): jinja2 strips
 * only spaces and tabs from the start of a line up to a block tag or comment.
 */
final class SourceRewrites {
    private SourceRewrites() {}

    static String apply(String template) {
        StringBuilder out = new StringBuilder(template.length() + 64);
        int i = 0;
        while (i < template.length()) {
            int open = nextTagOpen(template, i);
            if (open < 0) { out.append(template, i, template.length()); break; }
            char kind = template.charAt(open + 1);
            String text = template.substring(i, open);
            if (kind != '{' && open + 2 < template.length() && template.charAt(open + 2) != '+') text = lstrip(text, i == 0);
            if (kind == '#') {   // a comment: copied whole
                int e = template.indexOf("#}", open + 2);
                int stop = e < 0 ? template.length() : e + 2;
                out.append(text).append(template, open, stop);
                i = stop;
                continue;
            }
            String closer = kind == '{' ? "}}" : "%}";
            int end = tagEnd(template, open + 2, closer);
            if (end < 0) { out.append(text).append(template, open, template.length()); break; }
            out.append(text).append(template, open, open + 2);
            String inside = template.substring(open + 2, end);
            boolean signature = closer.equals("%}") && inside.replaceFirst("^[-+]?\\s*", "").startsWith("macro");
            String rewritten = signature ? inside : expression(notIsTest(inside));
            out.append(rewritten);
            i = end;
        }
        return out.toString();
    }

    private static int nextTagOpen(String s, int from) {
        for (int i = s.indexOf('{', from); i >= 0 && i + 1 < s.length(); i = s.indexOf('{', i + 1)) {
            char c = s.charAt(i + 1);
            if (c == '{' || c == '%' || c == '#') return i;
        }
        return -1;
    }

    /** jinja2's lstrip_blocks: spaces and tabs between the start of a line and a block tag are dropped. */
    private static String lstrip(String text, boolean atTemplateStart) {
        int nl = text.lastIndexOf('\n');
        if (nl < 0 && !atTemplateStart) return text;
        for (int k = nl + 1; k < text.length(); k++) if (text.charAt(k) != ' ' && text.charAt(k) != '\t') return text;
        return text.substring(0, nl + 1);
    }

    /** Index of the tag's closer, skipping string literals. */
    private static int tagEnd(String s, int from, String closer) {
        for (int i = from; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"' || c == '\'') i = stringEnd(s, i);
            else if (s.startsWith(closer, i)) return i;
        }
        return -1;
    }

    private static int stringEnd(String s, int quote) {
        char q = s.charAt(quote);
        for (int i = quote + 1; i < s.length(); i++) {
            if (s.charAt(i) == '\\') i++;
            else if (s.charAt(i) == q) return i;
        }
        return s.length() - 1;
    }

    /** {@code not x.y[0] is [not] test} → {@code not (x.y[0] is [not] test)}, outside string literals. */
    private static final java.util.regex.Pattern NOT_IS = java.util.regex.Pattern.compile(
            "\\bnot\\s+([A-Za-z_][\\w.]*(?:\\[[^\\]'\"]*\\]|\\['[^']*'\\]|\\[\"[^\"]*\"\\])*)\\s+is\\s+(not\\s+)?([A-Za-z_]\\w*)");

    private static String notIsTest(String e) {
        StringBuilder b = new StringBuilder();
        int i = 0;
        while (i < e.length()) {   // rewrite the code between string literals only
            int q = nextQuote(e, i);
            String code = e.substring(i, q < 0 ? e.length() : q);
            b.append(NOT_IS.matcher(code).replaceAll("not ($1 is $2$3)"));
            if (q < 0) break;
            int end = stringEnd(e, q);
            b.append(e, q, end + 1);
            i = end + 1;
        }
        return b.toString();
    }

    private static int nextQuote(String s, int from) {
        for (int i = from; i < s.length(); i++) if (s.charAt(i) == '"' || s.charAt(i) == '\'') return i;
        return -1;
    }

    /** Rewrites one tag's inside. */
    private static String expression(String e) {
        StringBuilder b = new StringBuilder(e.length() + 16);
        // depth of brackets, and for each open '(' whether it is a call whose keyword values we parenthesise
        java.util.ArrayDeque<int[]> calls = new java.util.ArrayDeque<>();   // {is call, in keyword value}
        for (int i = 0; i < e.length(); i++) {
            char c = e.charAt(i);
            if (c == '"' || c == '\'') {
                int end = stringEnd(e, i);
                b.append(e, i, end + 1);
                i = end;
                continue;
            }
            if (e.startsWith("[::-1]", i)) {
                b.append('.').append(PythonMethods.REVERSED).append("()");
                i += 5;
                continue;
            }
            switch (c) {
                case '(' -> {
                    boolean call = !b.isEmpty() && (Character.isJavaIdentifierPart(lastNonSpace(b)) || lastNonSpace(b) == ')');
                    calls.push(new int[]{call ? 1 : 0, 0});
                    b.append(c);
                }
                case '[', '{' -> { calls.push(new int[]{0, 0}); b.append(c); }
                case ')', ']', '}' -> {
                    int[] top = calls.poll();
                    if (top != null && top[1] == 1) b.append(')');
                    b.append(c);
                }
                case ',' -> {
                    int[] top = calls.peek();
                    if (top != null && top[1] == 1) { b.append(')'); top[1] = 0; }
                    b.append(c);
                }
                case '=' -> {
                    int[] top = calls.peek();
                    boolean keyword = top != null && top[0] == 1 && top[1] == 0
                            && i + 1 < e.length() && e.charAt(i + 1) != '='
                            && "=!<>".indexOf(lastNonSpace(b)) < 0 && Character.isJavaIdentifierPart(lastNonSpace(b));
                    b.append(c);
                    if (keyword) { b.append('('); top[1] = 1; }
                }
                default -> b.append(c);
            }
        }
        return b.toString();
    }

    private static char lastNonSpace(StringBuilder b) {
        for (int i = b.length() - 1; i >= 0; i--) if (!Character.isWhitespace(b.charAt(i))) return b.charAt(i);
        return ' ';
    }
}
