package dev.moe4j.chat;

import java.time.LocalDateTime;
import java.time.format.TextStyle;
import java.util.Locale;

/** Python's {@code strftime} directives (C locale) for transformers' {@code strftime_now(format)} template function. */
final class Strftime {
    private Strftime() {}

    static String format(LocalDateTime t, String pattern) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < pattern.length(); i++) {
            char c = pattern.charAt(i);
            if (c != '%' || i + 1 == pattern.length()) { b.append(c); continue; }
            char d = pattern.charAt(++i);
            switch (d) {
                case 'Y' -> b.append(t.getYear());
                case 'y' -> b.append(two(t.getYear() % 100));
                case 'm' -> b.append(two(t.getMonthValue()));
                case 'd' -> b.append(two(t.getDayOfMonth()));
                case '-' -> {   // glibc's no-padding flag, as in %-d (Llama 3 templates)
                    if (i + 1 < pattern.length()) {
                        char e = pattern.charAt(++i);
                        b.append(switch (e) {
                            case 'd' -> String.valueOf(t.getDayOfMonth());
                            case 'm' -> String.valueOf(t.getMonthValue());
                            case 'H' -> String.valueOf(t.getHour());
                            case 'I' -> String.valueOf(hour12(t));
                            case 'M' -> String.valueOf(t.getMinute());
                            case 'S' -> String.valueOf(t.getSecond());
                            default -> "%-" + e;
                        });
                    } else b.append("%-");
                }
                case 'e' -> b.append(String.format("%2d", t.getDayOfMonth()));
                case 'H' -> b.append(two(t.getHour()));
                case 'I' -> b.append(two(hour12(t)));
                case 'M' -> b.append(two(t.getMinute()));
                case 'S' -> b.append(two(t.getSecond()));
                case 'p' -> b.append(t.getHour() < 12 ? "AM" : "PM");
                case 'B' -> b.append(t.getMonth().getDisplayName(TextStyle.FULL, Locale.ENGLISH));
                case 'b', 'h' -> b.append(t.getMonth().getDisplayName(TextStyle.SHORT, Locale.ENGLISH));
                case 'A' -> b.append(t.getDayOfWeek().getDisplayName(TextStyle.FULL, Locale.ENGLISH));
                case 'a' -> b.append(t.getDayOfWeek().getDisplayName(TextStyle.SHORT, Locale.ENGLISH));
                case 'j' -> b.append(String.format("%03d", t.getDayOfYear()));
                case 'F' -> b.append(t.getYear()).append('-').append(two(t.getMonthValue())).append('-').append(two(t.getDayOfMonth()));
                case '%' -> b.append('%');
                default -> b.append('%').append(d);
            }
        }
        return b.toString();
    }

    private static int hour12(LocalDateTime t) {
        int h = t.getHour() % 12;
        return h == 0 ? 12 : h;
    }

    private static String two(int n) { return n < 10 ? "0" + n : String.valueOf(n); }
}
