package dev.moe4j.chat;

import jinjava.javax.el.ELContext;
import jinjava.javax.el.ELResolver;

import java.beans.FeatureDescriptor;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Python's string methods ({@code startswith}, {@code split}, {@code strip}, ...) and a reversed copy of a
 * list or string, for Jinjava, which otherwise offers Java's methods on Java strings ({@code "a".split(x)} is
 * a regular expression there, {@code startswith} does not exist). Installed ahead of Jinjava's own resolver
 * through {@code JinjavaConfig.withElResolver}, its public extension point for method calls; Python semantics
 * follow the Python 3 documentation of {@code str}.
 */
final class PythonMethods extends ELResolver {
    /** What {@code x[::-1]} becomes before Jinjava parses it: its parser has no slice step (see {@link JinjaChatTemplate}). */
    static final String REVERSED = "moe4j_reversed";

    @Override
    public Object invoke(ELContext context, Object base, Object method, Class<?>[] paramTypes, Object[] params) {
        if (!(method instanceof String name)) return null;
        Object[] args = params == null ? new Object[0] : params;
        Object result;
        if (base instanceof String s) result = string(s, name, args);
        else if (base instanceof List<?> list && name.equals(REVERSED) && args.length == 0) result = reversed(list);
        else if (base instanceof Map<?, ?> map && name.equals("get") && args.length >= 1) result = map.containsKey(args[0]) ? map.get(args[0]) : args.length > 1 ? args[1] : null;
        else if (base instanceof Map<?, ?> map && name.equals("values") && args.length == 0) result = new ArrayList<>(map.values());
        else return null;
        if (result == NOT_A_METHOD) return null;
        context.setPropertyResolved(true);
        return result;
    }

    private static final Object NOT_A_METHOD = new Object();

    private static Object string(String s, String name, Object[] a) {
        return switch (name) {
            case "startswith" -> a.length == 1 ? anyOf(a[0], p -> s.startsWith(p)) : NOT_A_METHOD;
            case "endswith" -> a.length == 1 ? anyOf(a[0], p -> s.endsWith(p)) : NOT_A_METHOD;
            case "strip" -> a.length == 0 || a[0] == null ? s.strip() : stripChars(s, str(a[0]), true, true);
            case "lstrip" -> a.length == 0 || a[0] == null ? s.stripLeading() : stripChars(s, str(a[0]), true, false);
            case "rstrip" -> a.length == 0 || a[0] == null ? s.stripTrailing() : stripChars(s, str(a[0]), false, true);
            case "split" -> split(s, a.length > 0 ? a[0] : null, a.length > 1 ? toInt(a[1]) : -1);
            case "rsplit" -> rsplit(s, a.length > 0 ? a[0] : null, a.length > 1 ? toInt(a[1]) : -1);
            case "upper" -> s.toUpperCase(java.util.Locale.ROOT);
            case "lower" -> s.toLowerCase(java.util.Locale.ROOT);
            case "title" -> title(s);
            case "capitalize" -> s.isEmpty() ? s : s.substring(0, 1).toUpperCase(java.util.Locale.ROOT) + s.substring(1).toLowerCase(java.util.Locale.ROOT);
            case "replace" -> a.length >= 2 ? replace(s, str(a[0]), str(a[1]), a.length > 2 ? toInt(a[2]) : -1) : NOT_A_METHOD;
            case "find" -> a.length == 1 ? (long) s.indexOf(str(a[0])) : NOT_A_METHOD;
            case "rfind" -> a.length == 1 ? (long) s.lastIndexOf(str(a[0])) : NOT_A_METHOD;
            case "count" -> a.length == 1 ? count(s, str(a[0])) : NOT_A_METHOD;
            case "join" -> a.length == 1 && a[0] instanceof Iterable<?> it ? join(s, it) : NOT_A_METHOD;
            case "splitlines" -> splitlines(s);
            case "isdigit" -> !s.isEmpty() && s.chars().allMatch(Character::isDigit);
            case "isalpha" -> !s.isEmpty() && s.chars().allMatch(Character::isLetter);
            case "isspace" -> !s.isEmpty() && s.chars().allMatch(Character::isWhitespace);
            case REVERSED -> new StringBuilder(s).reverse().toString();
            default -> NOT_A_METHOD;
        };
    }

    private static boolean anyOf(Object prefixes, java.util.function.Predicate<String> test) {
        if (prefixes instanceof Collection<?> c) {   // a tuple of prefixes
            for (Object p : c) if (test.test(str(p))) return true;
            return false;
        }
        return test.test(str(prefixes));
    }

    private static String str(Object o) { return o == null ? "None" : o.toString(); }

    private static int toInt(Object o) {
        if (o instanceof Number n) return n.intValue();
        throw new IllegalArgumentException("an integer was expected, got " + o);
    }

    private static String stripChars(String s, String chars, boolean left, boolean right) {
        int from = 0, to = s.length();
        while (left && from < to && chars.indexOf(s.charAt(from)) >= 0) from++;
        while (right && to > from && chars.indexOf(s.charAt(to - 1)) >= 0) to--;
        return s.substring(from, to);
    }

    /** Python's str.split: on runs of whitespace without a separator (dropping empty ends), else on each separator. */
    private static List<Object> split(String s, Object sep, int max) {
        List<Object> out = new ArrayList<>();
        if (sep == null) {
            String rest = s.stripLeading();
            while (!rest.isEmpty()) {
                if (max >= 0 && out.size() == max) { out.add(rest); return out; }
                int i = 0;
                while (i < rest.length() && !Character.isWhitespace(rest.charAt(i))) i++;
                out.add(rest.substring(0, i));
                rest = rest.substring(i).stripLeading();
            }
            return out;
        }
        String p = str(sep);
        if (p.isEmpty()) throw new IllegalArgumentException("empty separator");
        int from = 0;
        for (int i; (max < 0 || out.size() < max) && (i = s.indexOf(p, from)) >= 0; from = i + p.length()) out.add(s.substring(from, i));
        out.add(s.substring(from));
        return out;
    }

    private static List<Object> rsplit(String s, Object sep, int max) {
        if (sep == null || max < 0) return split(s, sep, max);
        String p = str(sep);
        List<Object> out = new ArrayList<>();
        int to = s.length();
        for (int i; out.size() < max && (i = s.lastIndexOf(p, to - p.length())) >= 0 && to - p.length() >= 0; to = i) out.add(0, s.substring(i + p.length(), to));
        out.add(0, s.substring(0, to));
        return out;
    }

    private static String replace(String s, String old, String by, int max) {
        if (max < 0) return s.replace(old, by);
        StringBuilder b = new StringBuilder();
        int from = 0, n = 0;
        for (int i; n < max && (i = s.indexOf(old, from)) >= 0; n++) {
            b.append(s, from, i).append(by);
            from = i + old.length();
            if (old.isEmpty()) { if (from < s.length()) b.append(s.charAt(from)); from++; }
        }
        return from <= s.length() ? b.append(s.substring(Math.min(from, s.length()))).toString() : b.toString();
    }

    private static long count(String s, String sub) {
        if (sub.isEmpty()) return s.length() + 1;
        long n = 0;
        for (int i = s.indexOf(sub); i >= 0; i = s.indexOf(sub, i + sub.length())) n++;
        return n;
    }

    private static String join(String sep, Iterable<?> items) {
        StringBuilder b = new StringBuilder();
        boolean first = true;
        for (Object o : items) {
            if (!first) b.append(sep);
            first = false;
            b.append(str(o));
        }
        return b.toString();
    }

    /** Python's str.splitlines(): no empty last line for a trailing line break. */
    private static List<Object> splitlines(String s) {
        List<Object> out = new ArrayList<>(List.of(s.split("\\r\\n|\\r|\\n", -1)));
        if (!out.isEmpty() && ((String) out.getLast()).isEmpty()) out.removeLast();
        return out;
    }

    private static String title(String s) {
        StringBuilder b = new StringBuilder(s.length());
        boolean prevLetter = false;
        for (char c : s.toCharArray()) {
            b.append(prevLetter ? Character.toLowerCase(c) : Character.toUpperCase(c));
            prevLetter = Character.isLetter(c);
        }
        return b.toString();
    }

    private static List<Object> reversed(List<?> list) {
        List<Object> out = new ArrayList<>(list);
        java.util.Collections.reverse(out);
        return out;
    }

    // A resolver for method calls only: property reads and writes are left to Jinjava's.
    @Override public Object getValue(ELContext context, Object base, Object property) { return null; }
    @Override public Class<?> getType(ELContext context, Object base, Object property) { return null; }
    @Override public void setValue(ELContext context, Object base, Object property, Object value) {}
    @Override public boolean isReadOnly(ELContext context, Object base, Object property) { return true; }
    @Override public Iterator<FeatureDescriptor> getFeatureDescriptors(ELContext context, Object base) { return null; }
    @Override public Class<?> getCommonPropertyType(ELContext context, Object base) { return null; }
}
