package dev.moe4j.train;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.zip.CRC32C;

/**
 * The framing of {@code checkpoint.bin}: the magic {@code MOE4JCK2}, then named sections in a fixed order, each
 * written as its name (one length byte, ASCII), its payload length in bytes (int64), the payload, and the
 * payload's CRC32C (int32); all little-endian. Doubles are stored as their IEEE bits, so a resumed run continues
 * bit for bit. A reader names the section whose checksum or length is wrong.
 */
final class CheckpointFile {
    static final byte[] MAGIC = "MOE4JCK2".getBytes(StandardCharsets.US_ASCII);
    /** Format 1 had no checksums; such files are refused rather than trusted. */
    static final byte[] MAGIC_V1 = "MOE4JCK1".getBytes(StandardCharsets.US_ASCII);
    private static final int CHUNK = 1 << 16;

    /** A problem with the file's bytes; the message names the section. */
    static final class CorruptException extends IOException {
        CorruptException(String message) { super(message); }
    }

    private CheckpointFile() {}

    static final class Writer {
        private final OutputStream out;
        private final ByteBuffer buf = ByteBuffer.allocate(CHUNK).order(ByteOrder.LITTLE_ENDIAN);

        Writer(OutputStream out) throws IOException {
            this.out = out;
            out.write(MAGIC);
        }

        void bytes(String name, byte[] payload) throws IOException {
            header(name, payload.length);
            CRC32C crc = new CRC32C();
            crc.update(payload);
            out.write(payload);
            trailer(crc);
        }

        /** The arrays one after another, as one section. */
        void doubles(String name, double[]... arrays) throws IOException {
            long count = 0;
            for (double[] a : arrays) count += a.length;
            header(name, count * Double.BYTES);
            CRC32C crc = new CRC32C();
            buf.clear();
            for (double[] a : arrays) {
                for (double x : a) {
                    if (!buf.hasRemaining()) flush(crc);
                    buf.putDouble(x);
                }
            }
            flush(crc);
            trailer(crc);
        }

        private void flush(CRC32C crc) throws IOException {
            crc.update(buf.array(), 0, buf.position());
            out.write(buf.array(), 0, buf.position());
            buf.clear();
        }

        private void header(String name, long length) throws IOException {
            byte[] n = name.getBytes(StandardCharsets.US_ASCII);
            out.write(n.length);
            out.write(n);
            out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(length).array());
        }

        private void trailer(CRC32C crc) throws IOException {
            out.write(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt((int) crc.getValue()).array());
        }
    }

    static final class Reader {
        private final DataInputStream in;
        private final byte[] chunk = new byte[CHUNK];
        private String section = "header";

        /** @throws CorruptException when the file does not start with the magic of this format */
        Reader(InputStream in) throws IOException {
            this.in = new DataInputStream(in);
            byte[] magic = new byte[MAGIC.length];
            readFully(magic, 0, magic.length);
            if (Arrays.equals(magic, MAGIC_V1)) {
                throw new CorruptException("written by an earlier moe4j in a format without checksums, which this version does not resume; "
                        + "start a new run");
            }
            if (!Arrays.equals(magic, MAGIC)) throw new CorruptException("not a moe4j checkpoint (bad magic)");
        }

        /** The section's bytes; at most {@code maxLength} of them. */
        byte[] bytes(String name, int maxLength) throws IOException {
            long length = header(name);
            if (length < 0 || length > maxLength) {
                throw new CorruptException("section '" + name + "' claims " + length + " bytes, more than the " + maxLength + " it may hold");
            }
            byte[] payload = new byte[(int) length];
            readFully(payload, 0, payload.length);
            CRC32C crc = new CRC32C();
            crc.update(payload);
            check(name, crc);
            return payload;
        }

        /** The section's doubles, which must number {@code count} (checked before anything is allocated). */
        double[] doubles(String name, int count) throws IOException {
            long length = header(name);
            if (length != (long) count * Double.BYTES) {
                throw new CorruptException("section '" + name + "' holds " + length + " bytes where the recorded shape needs "
                        + (long) count * Double.BYTES);
            }
            double[] out = new double[count];
            CRC32C crc = new CRC32C();
            ByteBuffer view = ByteBuffer.wrap(chunk).order(ByteOrder.LITTLE_ENDIAN);
            for (int done = 0; done < count; ) {
                int n = Math.min(count - done, CHUNK / Double.BYTES);
                readFully(chunk, 0, n * Double.BYTES);
                crc.update(chunk, 0, n * Double.BYTES);
                view.clear();
                view.asDoubleBuffer().get(out, done, n);
                done += n;
            }
            check(name, crc);
            return out;
        }

        /** @throws CorruptException when bytes follow the last section */
        void end() throws IOException {
            section = "end";
            long extra = 0;
            int n;
            while ((n = in.read(chunk)) > 0) extra += n;
            if (extra > 0) throw new CorruptException(extra + " unexpected bytes after the last section");
        }

        private long header(String name) throws IOException {
            section = name;
            int len = in.read();
            if (len < 0) throw new CorruptException("ends before section '" + name + "' (truncated)");
            byte[] n = new byte[len];
            readFully(n, 0, len);
            String found = new String(n, StandardCharsets.US_ASCII);
            if (!found.equals(name)) throw new CorruptException("expected section '" + name + "', found '" + printable(found) + "'");
            readFully(chunk, 0, 8);
            return ByteBuffer.wrap(chunk, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        }

        private void check(String name, CRC32C crc) throws IOException {
            readFully(chunk, 0, 4);
            int stored = ByteBuffer.wrap(chunk, 0, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
            if (stored != (int) crc.getValue()) {
                throw new CorruptException(String.format("section '%s' fails its CRC32C checksum (stored %08x, computed %08x): the file is damaged",
                        name, stored, (int) crc.getValue()));
            }
        }

        private void readFully(byte[] b, int off, int len) throws IOException {
            try {
                in.readFully(b, off, len);
            } catch (EOFException e) {
                throw new CorruptException("ends inside section '" + section + "' (truncated)");
            }
        }

        private static String printable(String s) {
            return s.replaceAll("[^\\x20-\\x7e]", "?");
        }
    }
}
