package io.dynamicfs.policy.model;

import io.dynamicfs.policy.track.TrackerFile;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.CRC32C;

/**
 * Keeps the decider a mount's training put live ({@link Predictor}) across remounts, so a remount does not
 * fall back to the untrained heuristic for the hours the next gate rounds take. A small file written aside,
 * forced and renamed; its last four bytes are the CRC32C of the rest.
 *
 * <p>Layout (big-endian): magic {@code DFSMODEL}, version (int, {@value #VERSION}), the horizon it predicts
 * for (long, ms), its held-out PR-AUC (double), the number of features (int), then a kind byte: 0 a model
 * (version int, bias, then weights, means and scales, doubles), 1 a heuristic (its name, UTF, then 0 or 1 and
 * the calibration as a one-feature model).
 *
 * <p>A file for another horizon or feature set, or damaged, is not used: {@link #load} says why and the mount
 * starts with {@link Predictor#INITIAL}.
 */
public final class PredictorFile {
  static final byte[] MAGIC = {'D', 'F', 'S', 'M', 'O', 'D', 'E', 'L'};
  static final int VERSION = 1;

  /** What {@link #load} found: the predictor (INITIAL when none was usable) and why not, or null. */
  public record Loaded(Predictor predictor, String problem) {}

  private PredictorFile() {}

  /** Writes {@code p} (for horizon {@code horizonMillis}) to {@code path} atomically. */
  public static void save(Predictor p, long horizonMillis, Path path) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    DataOutputStream out = new DataOutputStream(bytes);
    out.write(MAGIC);
    out.writeInt(VERSION);
    out.writeLong(horizonMillis);
    out.writeDouble(p.heldOut());
    out.writeInt(Features.COUNT);
    if (p.model() != null) {
      out.writeByte(0);
      writeModel(out, p.model());
    } else {
      out.writeByte(1);
      out.writeUTF(p.heuristic().name());
      out.writeByte(p.calibration() == null ? 0 : 1);
      if (p.calibration() != null) {
        writeModel(out, p.calibration());
      }
    }
    out.flush();
    CRC32C crc = new CRC32C();
    crc.update(bytes.toByteArray());
    out.writeInt((int) crc.getValue());
    Path tmp = path.resolveSibling(path.getFileName() + ".tmp");
    Files.write(tmp, bytes.toByteArray());
    TrackerFile.install(tmp, path);
  }

  private static void writeModel(DataOutputStream out, LogisticModel m) throws IOException {
    out.writeInt(m.version());
    out.writeDouble(m.bias());
    double[] w = m.weights();
    out.writeInt(w.length);
    for (double[] a : new double[][] {w, m.means(), m.scales()}) {
      for (double v : a) {
        out.writeDouble(v);
      }
    }
  }

  /** Loads what {@link #save} wrote for {@code horizonMillis}; a missing file is INITIAL with no problem. */
  public static Loaded load(Path path, long horizonMillis) {
    byte[] data;
    try {
      data = Files.readAllBytes(path);
    } catch (NoSuchFileException e) {
      return new Loaded(Predictor.INITIAL, null);
    } catch (IOException e) {
      return unusable("cannot read: " + e.getMessage());
    }
    if (data.length < MAGIC.length + 8) {
      return unusable("too short (" + data.length + " bytes)");
    }
    CRC32C crc = new CRC32C();
    crc.update(data, 0, data.length - 4);
    ByteBuffer b = ByteBuffer.wrap(data);
    if ((int) crc.getValue() != b.getInt(data.length - 4)) {
      return unusable("checksum mismatch");
    }
    b.limit(data.length - 4);
    try {
      byte[] magic = new byte[MAGIC.length];
      b.get(magic);
      if (!Arrays.equals(magic, MAGIC)) {
        return unusable("not a model file (bad magic)");
      }
      int version = b.getInt();
      if (version != VERSION) {
        return unusable("unsupported version " + version + " (this build reads " + VERSION + ")");
      }
      long horizon = b.getLong();
      if (horizon != horizonMillis) {
        return unusable("trained for a horizon of " + horizon + " ms, the mount predicts for " + horizonMillis + " ms");
      }
      double heldOut = b.getDouble();
      int features = b.getInt();
      if (features != Features.COUNT) {
        return unusable("trained on " + features + " features, this build has " + Features.COUNT);
      }
      Predictor p;
      byte kind = b.get();
      if (kind == 0) {
        p = Predictor.of(readModel(b, Features.COUNT), heldOut);
      } else if (kind == 1) {
        int len = b.getShort() & 0xffff;
        byte[] name = new byte[len];
        b.get(name);
        Heuristic h = Heuristic.valueOf(new String(name, StandardCharsets.UTF_8));
        LogisticModel c = b.get() == 1 ? readModel(b, 1) : null;
        p = Predictor.heuristic(h, c, heldOut);
      } else {
        return unusable("unknown kind " + kind);
      }
      if (b.hasRemaining()) {
        return unusable(b.remaining() + " bytes after the predictor");
      }
      return new Loaded(p, null);
    } catch (BufferUnderflowException | IllegalArgumentException e) {
      return unusable("truncated or malformed");
    }
  }

  private static LogisticModel readModel(ByteBuffer b, int expected) {
    int version = b.getInt();
    double bias = b.getDouble();
    int d = b.getInt();
    if (d != expected) {
      throw new IllegalArgumentException("a model of " + d + " weights where " + expected + " belong");
    }
    double[][] a = new double[3][d];
    for (double[] row : a) {
      for (int i = 0; i < d; i++) {
        row[i] = b.getDouble();
      }
    }
    for (int i = 0; i < d; i++) {
      if (!Double.isFinite(a[0][i]) || !Double.isFinite(a[1][i]) || !(a[2][i] > 0) || !Double.isFinite(bias)) {
        throw new IllegalArgumentException("a weight, mean or scale that is not a finite number");
      }
    }
    return new LogisticModel(bias, a[0], a[1], a[2], version);
  }

  private static Loaded unusable(String why) {
    return new Loaded(Predictor.INITIAL, why);
  }
}
