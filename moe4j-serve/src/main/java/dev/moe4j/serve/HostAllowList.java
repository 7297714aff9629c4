package dev.moe4j.serve;

import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Which {@code Host} headers the server answers. A page on another site can make a browser send requests here by
 * pointing a DNS name of its own at 127.0.0.1 (DNS rebinding); the browser then sends that name as {@code Host},
 * so serving only loopback names, the bound address and names the operator lists shuts it out.
 */
final class HostAllowList {
    private static final List<String> LOOPBACK = List.of("localhost", "127.0.0.1", "[::1]");

    private final Set<String> names = new HashSet<>();
    private final boolean any;

    /**
     * @param boundHost the address the server listens on (an IPv6 literal with or without brackets)
     * @param extra     further names; {@code "*"} allows every host
     */
    HostAllowList(String boundHost, List<String> extra) {
        names.addAll(LOOPBACK);
        names.add(normalise(boundHost));
        for (String h : extra) names.add(normalise(withoutPort(h.trim()))); // any port is served, so a listed one is dropped
        this.any = extra.contains("*");
    }

    /** Whether a request with this {@code Host} header value (port allowed) is served; null (HTTP/1.0 without Host) is. */
    boolean allows(String hostHeader) {
        if (any || hostHeader == null) return true;
        return names.contains(normalise(withoutPort(hostHeader.trim())));
    }

    private static String withoutPort(String host) {
        if (host.startsWith("[")) {
            int close = host.indexOf(']');
            return close < 0 ? host : host.substring(0, close + 1);
        }
        int colon = host.indexOf(':');
        return colon < 0 || host.indexOf(':', colon + 1) >= 0 ? host : host.substring(0, colon);
    }

    private static String normalise(String host) {
        String h = host.trim().toLowerCase(Locale.ROOT);
        if (h.endsWith(".")) h = h.substring(0, h.length() - 1);
        if (h.contains(":") && !h.startsWith("[")) h = "[" + h + "]"; // a bare IPv6 literal
        return h;
    }
}
