package dev.moe4j.serve;

import com.fasterxml.jackson.databind.JsonNode;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * HTTP/1.1 over a plain loopback socket, for what java.net.http will not send: slow, partial, malformed or
 * abandoned requests and foreign Host headers. Every read has a time limit.
 */
final class RawHttp implements AutoCloseable {
    final Socket socket;
    private final InputStream in;

    record Response(int status, Map<String, String> headers, String body) {
        JsonNode json() throws IOException { return Json.MAPPER.readTree(body); }
        String header(String name) { return headers.get(name.toLowerCase(Locale.ROOT)); }
    }

    RawHttp(int port) throws IOException {
        socket = new Socket();
        socket.connect(new InetSocketAddress("127.0.0.1", port), 10_000);
        socket.setSoTimeout(20_000);
        in = socket.getInputStream();
    }

    /** A complete request with a body; {@code contentType} null sends none. */
    static String post(String path, String host, String contentType, String body, String... extraHeaders) {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        StringBuilder b = new StringBuilder("POST " + path + " HTTP/1.1\r\nHost: " + host + "\r\n");
        if (contentType != null) b.append("Content-Type: ").append(contentType).append("\r\n");
        for (String h : extraHeaders) b.append(h).append("\r\n");
        return b.append("Content-Length: ").append(bytes.length).append("\r\n\r\n").append(body).toString();
    }

    static String get(String path, String host, String... extraHeaders) {
        StringBuilder b = new StringBuilder("GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\n");
        for (String h : extraHeaders) b.append(h).append("\r\n");
        return b.append("\r\n").toString();
    }

    /** One request on a fresh connection, and its response. */
    static Response exchange(int port, String request) throws IOException {
        try (RawHttp c = new RawHttp(port)) {
            c.send(request);
            return c.response();
        }
    }

    void send(String text) throws IOException {
        socket.getOutputStream().write(text.getBytes(StandardCharsets.UTF_8));
        socket.getOutputStream().flush();
    }

    /** Reads one response (none for 204 and 304, else Content-Length or until the server closes). */
    Response response() throws IOException {
        String status = line();
        if (status == null) throw new IOException("the server closed the connection without a response");
        Map<String, String> headers = new HashMap<>();
        for (String h; (h = line()) != null && !h.isEmpty(); ) {
            int colon = h.indexOf(':');
            headers.put(h.substring(0, colon).trim().toLowerCase(Locale.ROOT), h.substring(colon + 1).trim());
        }
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        String length = headers.get("content-length");
        int code = Integer.parseInt(status.split(" ")[1]);
        if (code == 204 || code == 304) {
            return new Response(code, headers, ""); // no body by definition
        } else if (length != null) {
            body.write(in.readNBytes(Integer.parseInt(length)));
        } else {
            in.transferTo(body);
        }
        return new Response(Integer.parseInt(status.split(" ")[1]), headers, body.toString(StandardCharsets.UTF_8));
    }

    /** A line without its CRLF; null at end of stream. */
    String line() throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (int c; (c = in.read()) >= 0; ) {
            if (c == '\n') return b.toString(StandardCharsets.UTF_8).replaceFirst("\r$", "");
            b.write(c);
        }
        return b.size() == 0 ? null : b.toString(StandardCharsets.UTF_8);
    }

    /** Whether the server closes the connection within {@code millis} (any bytes before the end are skipped). */
    boolean closedWithin(long millis) throws IOException {
        long end = System.nanoTime() + millis * 1_000_000;
        try {
            while (System.nanoTime() < end) {
                socket.setSoTimeout((int) Math.max(1, (end - System.nanoTime()) / 1_000_000));
                if (in.read() < 0) return true;
            }
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException reset) {
            return true;
        }
        return false;
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
