package dev.moe4j.serve;

import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.util.BufferUtil;
import org.eclipse.jetty.util.Callback;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * A total deadline for a request's headers. Jetty's idle timeout restarts with every byte, so a client that
 * sends one header line every few seconds would hold its connection forever; here, once the first byte of a
 * request has arrived, the complete request head must follow within the deadline, else the client gets a 408
 * and the connection is closed. A connection with nothing on the way (new, or kept alive between requests)
 * is left to Jetty's idle timeout, which closes it silently: a 408 there could reach a client that is reusing
 * the connection at that moment, as if it answered its next request. While the connection cap is reached, though,
 * such idle connections are closed here (silently, and outright, so the slot is free at once) after the header
 * deadline: Jetty's lower idle timeout at the cap half-closes and then waits for the peer, so a few silent sockets
 * would lock everyone else out for a minute.
 *
 * <p>Jetty calls this as a {@link Connection.Listener} (connections opening and closing) and as a
 * {@link HttpConfiguration.Customizer} (a request's head is complete); a sweeper thread, running a few times per
 * deadline, sees bytes arrive (so the clock starts up to one sweep late) and closes the late.
 */
final class ReadDeadlines implements Connection.Listener, HttpConfiguration.Customizer, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ReadDeadlines.class);
    private static final long NOT_STARTED = Long.MAX_VALUE;

    private final long headerNanos;
    private final int maxConnections;
    private final Metrics metrics;
    private final Map<Connection, Watch> open = new ConcurrentHashMap<>();
    private final ScheduledExecutorService sweeper;

    /** One connection's state; guarded by itself. */
    private static final class Watch {
        boolean awaitingHead = true; // false while a request is handled
        long bytesIn;                // the connection's bytes read when it began to await a head; more means one has begun
        long deadline = NOT_STARTED; // System.nanoTime() by which the head must be complete
        long idleSince;              // System.nanoTime() when it began to await a head
        long requests;               // heads received so far
        boolean expired;
    }

    /**
     * @param headerTimeoutMillis ms from a request's first byte to the end of its head; also how long a connection
     *                            may sit idle while {@code maxConnections} are open
     */
    ReadDeadlines(long headerTimeoutMillis, int maxConnections, Metrics metrics) {
        this.headerNanos = TimeUnit.MILLISECONDS.toNanos(headerTimeoutMillis);
        this.maxConnections = maxConnections;
        this.metrics = metrics;
        metrics.connectionGauge(open::size);
        long period = Math.clamp(headerTimeoutMillis / 4, 50, 1_000);
        this.sweeper = Executors.newSingleThreadScheduledExecutor(r -> Thread.ofPlatform().name("moe4j-read-deadlines").daemon().unstarted(r));
        sweeper.scheduleWithFixedDelay(this::sweep, period, period, TimeUnit.MILLISECONDS);
    }

    @Override
    public void onOpened(Connection connection) {
        Watch w = new Watch();
        w.bytesIn = connection.getBytesIn();
        w.idleSince = System.nanoTime();
        open.put(connection, w);
    }

    @Override
    public void onClosed(Connection connection) {
        open.remove(connection);
    }

    /** A request's head is complete: no deadline while it is handled; await the next head once its response is done. */
    @Override
    public Request customize(Request request, HttpFields.Mutable responseHeaders) {
        Connection connection = request.getConnectionMetaData().getConnection();
        Watch w = open.get(connection);
        if (w == null) return request;
        long n;
        synchronized (w) {
            n = ++w.requests;
            w.awaitingHead = false;
        }
        Request.addCompletionListener(request, failure -> {
            synchronized (w) {
                if (w.requests != n) return; // the next request's head is in already
                w.awaitingHead = true;
                w.bytesIn = connection.getBytesIn();
                w.deadline = NOT_STARTED;
                w.idleSince = System.nanoTime();
            }
        });
        return request;
    }

    private void sweep() {
        try {
            closeLate(System.nanoTime());
        } catch (RuntimeException e) { // an exception would cancel the schedule
            log.warn("read deadline sweep failed: {}", e.toString());
        }
    }

    private void closeLate(long now) {
        boolean atCap = open.size() >= maxConnections;
        for (Map.Entry<Connection, Watch> e : open.entrySet()) {
            Watch w = e.getValue();
            boolean idleTooLong = false;
            synchronized (w) {
                if (!w.awaitingHead || w.expired) continue;
                if (w.deadline == NOT_STARTED) {
                    if (e.getKey().getBytesIn() > w.bytesIn) w.deadline = now + headerNanos; // a request has begun
                    else idleTooLong = atCap && now - w.idleSince >= headerNanos;
                    if (!idleTooLong) continue;
                } else if (now - w.deadline < 0) {
                    continue;
                }
                w.expired = true;
            }
            if (idleTooLong) {
                log.debug("closing idle {}: {} connections open, the most allowed", e.getKey().getEndPoint().getRemoteSocketAddress(), maxConnections);
                e.getKey().getEndPoint().close();
                continue;
            }
            expire(e.getKey());
        }
    }

    /** Answers 408 and closes: a request's head is late. */
    private void expire(Connection connection) {
        EndPoint ep = connection.getEndPoint();
        log.debug("closing {}: no complete request head within {} ms", ep.getRemoteSocketAddress(), headerNanos / 1_000_000);
        metrics.readTimeout();
        try {
            ep.write(Callback.from(ep::close, x -> ep.close()), timeoutResponse());
        } catch (RuntimeException busy) { // a write still pending: no room for a goodbye
            ep.close();
        }
    }

    private ByteBuffer timeoutResponse() {
        String body = Json.write(Json.error(ApiException.refused(408, "request_timeout",
                "the request head did not arrive within " + headerNanos / 1_000_000 + " ms of its first byte")));
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        String head = "HTTP/1.1 408 Request Timeout\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: "
                + bytes.length + "\r\n\r\n";
        ByteBuffer b = BufferUtil.allocate(head.length() + bytes.length);
        BufferUtil.append(b, head.getBytes(StandardCharsets.US_ASCII));
        BufferUtil.append(b, bytes);
        return b;
    }

    @Override
    public void close() {
        sweeper.shutdownNow();
    }
}
