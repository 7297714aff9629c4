package dev.moe4j.serve;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Clients that trickle their request hold a connection only until the read deadlines (1 s here), however often
 * they send a byte; idle kept-alive connections are not cut by them; connections beyond the cap wait. Raw sockets, because
 * no HTTP client library sends a request this slowly. Time bounds only from below by the deadline and from
 * above generously, so a loaded machine does not fail them.
 */
class SlowClientTest {
    static final long DEADLINE_MS = 1_000;
    static final int MAX_CONNECTIONS = 8;
    static TestServer s;

    @BeforeAll
    static void start() {
        s = TestServer.start("qwen2moe-tiny", new ServerOptions("127.0.0.1", 0, null, 2, 0, "qwen2moe-tiny", 0)
                .withLimits(new ServerOptions.ConnectionLimits(MAX_CONNECTIONS, DEADLINE_MS, DEADLINE_MS, 1 << 20)));
    }

    @AfterAll
    static void stop() {
        if (s != null) s.close();
    }

    static long metric(String name) {
        return s.server.metrics().render().lines().filter(l -> l.startsWith(name + " ")).mapToLong(l -> Long.parseLong(l.substring(name.length() + 1)))
                .findFirst().orElse(0);
    }

    /** Sends {@code line} every 250 ms until the server answers or closes (at most 40 times); the seconds it took. */
    static double trickle(RawHttp c, String line) throws Exception {
        long t0 = System.nanoTime();
        InputStream in = c.socket.getInputStream();
        try {
            for (int i = 0; i < 40 && in.available() == 0; i++) {
                c.send(line);
                Thread.sleep(250);
            }
        } catch (IOException closed) {
            // the server closed first; what it said before is still to be read
        }
        return (System.nanoTime() - t0) / 1e9;
    }

    @Test
    void aClientSendingAHeaderLineEvery250MsGets408AfterTheDeadline() throws Exception {
        long timeoutsBefore = metric("moe4j_read_timeouts_total");
        try (RawHttp c = new RawHttp(s.server.port())) {
            c.send("GET /health HTTP/1.1\r\nHost: localhost\r\n");
            double took = trickle(c, "X-Slow: yes\r\n");
            assertTrue(took >= DEADLINE_MS / 1e3 - 0.3 && took < 9, "cut off after " + took + " s");
            RawHttp.Response r = c.response();
            assertEquals(408, r.status(), r.body());
            assertEquals("request_timeout", r.json().at("/error/code").asText(), r.body());
            assertTrue(c.closedWithin(5_000), "and the connection is closed");
        }
        assertTrue(metric("moe4j_read_timeouts_total") > timeoutsBefore);
    }

    @Test
    void aBodyTrickledByteByByteGets408AfterTheDeadline() throws Exception {
        try (RawHttp c = new RawHttp(s.server.port())) {
            c.send("POST /v1/completions HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{");
            double took = trickle(c, " ");
            assertTrue(took >= DEADLINE_MS / 1e3 - 0.3 && took < 9, "cut off after " + took + " s");
            RawHttp.Response r = c.response();
            assertEquals(408, r.status(), r.body());
            assertEquals("request_timeout", r.json().at("/error/code").asText(), r.body());
            assertTrue(c.closedWithin(5_000), "and the connection is closed");
        }
    }

    /**
     * The deadline runs from a request's first byte: a kept-alive connection idle between requests is Jetty's idle
     * timeout's business (closed silently), so a client reusing it never takes a 408 for the answer to its next request.
     */
    @Test
    void anIdleKeepAliveConnectionOutlivesTheDeadline() throws Exception {
        try (RawHttp c = new RawHttp(s.server.port())) {
            c.send(RawHttp.get("/health", "localhost"));
            assertEquals(200, c.response().status());
            Thread.sleep(3 * DEADLINE_MS);
            c.send(RawHttp.get("/health", "localhost"));
            assertEquals(200, c.response().status(), "the same connection serves the next request");
        }
    }

    /** With the cap reached a new client waits in the backlog, and is served once the deadline has cut a slow one. */
    @Test
    void beyondTheConnectionCapClientsWaitUntilSlowOnesAreCut() throws Exception {
        List<RawHttp> slow = new ArrayList<>();
        try {
            long t0 = System.nanoTime();
            for (int i = 0; i < MAX_CONNECTIONS; i++) {
                RawHttp c = new RawHttp(s.server.port());
                c.send("GET /health HTTP/1.1\r\n");
                slow.add(c);
            }
            long wait = System.nanoTime();
            while (metric("moe4j_open_connections") < MAX_CONNECTIONS && System.nanoTime() - wait < 5_000_000_000L) Thread.sleep(10);
            try (RawHttp c = new RawHttp(s.server.port())) { // the kernel completes the connection; Jetty does not accept it yet
                c.send(RawHttp.get("/health", "localhost"));
                assertTrue(metric("moe4j_open_connections") <= MAX_CONNECTIONS, "the cap holds");
                RawHttp.Response r = c.response();
                double took = (System.nanoTime() - t0) / 1e9;
                assertEquals(200, r.status(), r.body());
                assertTrue(took >= DEADLINE_MS / 1e3 - 0.05, "answered after " + took + " s, before a slow client was cut");
            }
        } finally {
            for (RawHttp c : slow) c.close();
        }
    }
}
