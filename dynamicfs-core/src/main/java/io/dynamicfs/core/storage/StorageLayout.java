package io.dynamicfs.core.storage;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import io.dynamicfs.core.api.Errno;
import io.dynamicfs.core.api.FsException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Where a filesystem's blocks live: an ordered list of tiers (new data lands on the first) and the
 * background scrub settings. Read from a YAML file or from {@code --tier NAME:REDUNDANCY:DIR[,DIR…]}
 * options, validated as a whole, and recorded in DATA at format time; a later mount may repeat it but not
 * change it.
 *
 * <pre>
 * tiers:
 *   - name: fast
 *     redundancy: replicate-2
 *     devices: [/nvme0/dfs, /nvme1/dfs]
 *   - name: slow
 *     redundancy: rs-4-2
 *     devices: [/hdd0/dfs, /hdd1/dfs, /hdd2/dfs, /hdd3/dfs, /hdd4/dfs, /hdd5/dfs]
 * scrub:
 *   rate_mib_per_second: 50
 *   interval_hours: 168
 * compaction:
 *   live_fraction_below: 0.5
 *   interval_seconds: 30
 * </pre>
 *
 * A file without {@code tiers} keeps the recorded tiers (or the default) and only sets the rest.
 */
public record StorageLayout(List<TierSpec> tiers, Scrub scrub, Compaction compaction) {
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_-]{0,31}");

  /** Background scrubbing: a pass every {@code interval} at most {@code rateBytesPerSecond}. */
  public record Scrub(boolean enabled, long rateBytesPerSecond, Duration interval) {
    public static final Scrub DEFAULT = new Scrub(true, 32L << 20, Duration.ofDays(7));

    public Scrub {
      if (rateBytesPerSecond <= 0) {
        throw new IllegalArgumentException("scrub rate must be positive");
      }
      if (interval.isNegative() || interval.isZero()) {
        throw new IllegalArgumentException("scrub interval must be positive");
      }
    }
  }

  /** Background compaction: every {@code interval}, rewrite segments whose live fraction is below the threshold. */
  public record Compaction(double liveFractionBelow, Duration interval) {
    public static final Compaction DEFAULT = new Compaction(0.5, Duration.ofSeconds(30));

    public Compaction {
      if (!(liveFractionBelow > 0 && liveFractionBelow < 1)) {
        throw new IllegalArgumentException("compaction live_fraction_below must be between 0 and 1 (exclusive)");
      }
      if (interval.isNegative() || interval.isZero()) {
        throw new IllegalArgumentException("compaction interval must be positive");
      }
    }
  }

  public StorageLayout {
    tiers = List.copyOf(tiers);
  }

  public StorageLayout(List<TierSpec> tiers, Scrub scrub) {
    this(tiers, scrub, Compaction.DEFAULT);
  }

  /** The default: one tier on one device directory with a single copy. */
  public static StorageLayout single(Path device) {
    return new StorageLayout(List.of(new TierSpec("default", new Redundancy.Replicate(1),
        List.of(device.toAbsolutePath().normalize()))), Scrub.DEFAULT);
  }

  /** These tiers with another layout's scrub and compaction settings. */
  public StorageLayout withSettingsOf(StorageLayout other) {
    return new StorageLayout(tiers, other.scrub(), other.compaction());
  }

  public int tierIndex(String name) {
    for (int i = 0; i < tiers.size(); i++) {
      if (tiers.get(i).name().equals(name)) {
        return i;
      }
    }
    return -1;
  }

  // ---- the file format -------------------------------------------------------------------------------

  record FileTier(String name, String redundancy, List<String> devices) {}

  record FileScrub(Boolean enabled, Double rateMibPerSecond, Double intervalHours) {}

  record FileCompaction(Double liveFractionBelow, Double intervalSeconds) {}

  record FileLayout(List<FileTier> tiers, FileScrub scrub, FileCompaction compaction) {}

  private static ObjectMapper yaml() {
    return new ObjectMapper(new YAMLFactory().disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER))
        .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
        .setSerializationInclusion(com.fasterxml.jackson.annotation.JsonInclude.Include.NON_NULL)
        .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
        .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
        .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
  }

  /**
   * Reads and validates a layout file; relative device paths are taken from the file's directory. Every
   * problem is an EINVAL naming the file, the line where it can, and what is wrong.
   */
  public static StorageLayout read(Path file) throws FsException {
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw FsException.of(Errno.EINVAL, "cannot read storage config %s: %s", file, e.getMessage());
    }
    FileLayout f;
    try {
      f = yaml().readValue(text, FileLayout.class);
    } catch (UnrecognizedPropertyException e) {
      throw FsException.of(Errno.EINVAL, "storage config %s, line %d: unknown key '%s' (known: %s)", file,
          line(e.getLocation()), e.getPropertyName(), String.join(", ", known(e)));
    } catch (JacksonException e) {
      throw FsException.of(Errno.EINVAL, "storage config %s, line %d: %s", file, line(e.getLocation()),
          e.getOriginalMessage());
    }
    if (f == null) {
      throw FsException.of(Errno.EINVAL, "storage config %s is empty", file);
    }
    Path base = file.toAbsolutePath().getParent();
    try {
      return fromFile(f, base);
    } catch (IllegalArgumentException e) {
      throw FsException.of(Errno.EINVAL, "storage config %s: %s", file, e.getMessage());
    }
  }

  private static List<String> known(UnrecognizedPropertyException e) {
    List<String> out = new ArrayList<>();
    if (e.getKnownPropertyIds() != null) {
      e.getKnownPropertyIds().forEach(o -> out.add(String.valueOf(o)));
    }
    return out;
  }

  private static int line(JsonLocation l) {
    return l == null ? 0 : l.getLineNr();
  }

  private static StorageLayout fromFile(FileLayout f, Path base) {
    if (f.tiers() != null && f.tiers().isEmpty()) {
      throw new IllegalArgumentException("no tiers: give at least one under 'tiers:' (or leave 'tiers' out)");
    }
    List<TierSpec> tiers = new ArrayList<>();
    List<FileTier> fileTiers = f.tiers() == null ? List.of() : f.tiers();
    for (FileTier t : fileTiers) {
      if (t == null) {
        throw new IllegalArgumentException("a tier entry is empty");
      }
      if (t.devices() == null || t.devices().isEmpty()) {
        throw new IllegalArgumentException("tier '" + t.name() + "' lists no devices");
      }
      List<Path> devs = new ArrayList<>();
      for (String d : t.devices()) {
        if (d == null || d.isBlank()) {
          throw new IllegalArgumentException("tier '" + t.name() + "' has an empty device path");
        }
        devs.add(base.resolve(d).toAbsolutePath().normalize());
      }
      if (t.redundancy() == null) {
        throw new IllegalArgumentException("tier '" + t.name() + "' has no redundancy (replicate-N or rs-K-M)");
      }
      tiers.add(new TierSpec(t.name(), Redundancy.parse(t.redundancy()), devs));
    }
    Scrub scrub = Scrub.DEFAULT;
    if (f.scrub() != null) {
      FileScrub s = f.scrub();
      double rate = s.rateMibPerSecond() == null ? Scrub.DEFAULT.rateBytesPerSecond() / (double) (1 << 20)
          : s.rateMibPerSecond();
      double hours = s.intervalHours() == null ? Scrub.DEFAULT.interval().toMinutes() / 60.0 : s.intervalHours();
      if (!(rate > 0) || !(hours > 0)) {
        throw new IllegalArgumentException("scrub rate_mib_per_second and interval_hours must be positive");
      }
      scrub = new Scrub(s.enabled() == null || s.enabled(), (long) (rate * (1 << 20)),
          Duration.ofSeconds(Math.max(1, (long) (hours * 3600))));
    }
    Compaction compaction = Compaction.DEFAULT;
    if (f.compaction() != null) {
      FileCompaction c = f.compaction();
      compaction = new Compaction(
          c.liveFractionBelow() == null ? Compaction.DEFAULT.liveFractionBelow() : c.liveFractionBelow(),
          c.intervalSeconds() == null ? Compaction.DEFAULT.interval()
              : Duration.ofMillis(Math.max(1, (long) (c.intervalSeconds() * 1000))));
    }
    StorageLayout l = new StorageLayout(tiers, scrub, compaction);
    return tiers.isEmpty() ? l : validate(l);
  }

  /** True when this layout only carries settings and leaves the tiers as recorded. */
  public boolean settingsOnly() {
    return tiers.isEmpty();
  }

  /**
   * Builds a layout from {@code NAME:REDUNDANCY:DIR[,DIR…]} options (relative paths from the working
   * directory), in order.
   */
  public static StorageLayout fromOptions(List<String> options) throws FsException {
    List<TierSpec> tiers = new ArrayList<>();
    for (String o : options) {
      String[] p = o.split(":", 3);
      if (p.length != 3 || p[2].isBlank()) {
        throw FsException.of(Errno.EINVAL, "--tier '%s' is not NAME:REDUNDANCY:DIR[,DIR...]", o);
      }
      List<Path> devs = new ArrayList<>();
      for (String d : p[2].split(",")) {
        if (d.isBlank()) {
          throw FsException.of(Errno.EINVAL, "--tier '%s' has an empty device path", o);
        }
        devs.add(Path.of(d).toAbsolutePath().normalize());
      }
      try {
        tiers.add(new TierSpec(p[0], Redundancy.parse(p[1]), devs));
      } catch (IllegalArgumentException e) {
        throw FsException.of(Errno.EINVAL, "--tier '%s': %s", o, e.getMessage());
      }
    }
    try {
      return validate(new StorageLayout(tiers, Scrub.DEFAULT));
    } catch (IllegalArgumentException e) {
      throw FsException.of(Errno.EINVAL, "--tier: %s", e.getMessage());
    }
  }

  /** Checks what cannot work: names, too few devices for the redundancy, a device listed twice or nested. */
  static StorageLayout validate(StorageLayout l) {
    if (l.tiers().isEmpty()) {
      throw new IllegalArgumentException("no tiers");
    }
    Map<String, Integer> names = new HashMap<>();
    Map<Path, String> owner = new LinkedHashMap<>();
    for (TierSpec t : l.tiers()) {
      if (t.name() == null || !NAME.matcher(t.name()).matches()) {
        throw new IllegalArgumentException("tier name '" + t.name()
            + "' must be 1-32 letters, digits, '-' or '_', starting with a letter or digit");
      }
      if (names.put(t.name(), 1) != null) {
        throw new IllegalArgumentException("tier '" + t.name() + "' is defined twice");
      }
      int need = t.redundancy().minDevices();
      if (t.devices().size() < need) {
        throw new IllegalArgumentException("tier '" + t.name() + "': " + t.redundancy() + " needs at least " + need
            + " devices, " + t.devices().size() + " given");
      }
      if (t.devices().size() > 1024) {
        throw new IllegalArgumentException("tier '" + t.name() + "' has more than 1024 devices");
      }
      for (Path d : t.devices()) {
        String prev = owner.put(d, t.name());
        if (prev != null) {
          throw new IllegalArgumentException("device " + d + " is listed twice (tiers '" + prev + "' and '"
              + t.name() + "')");
        }
      }
    }
    List<Path> all = new ArrayList<>(owner.keySet());
    for (Path a : all) {
      for (Path b : all) {
        if (a != b && b.startsWith(a)) {
          throw new IllegalArgumentException("device " + b + " lies inside device " + a);
        }
      }
    }
    return l;
  }

  /** The tiers as recorded in DATA: written atomically, scrub settings left out (they may change). */
  public void writeTiers(Path file) throws IOException {
    List<FileTier> ft = new ArrayList<>();
    for (TierSpec t : tiers) {
      ft.add(new FileTier(t.name(), t.redundancy().toString(), t.devices().stream().map(Path::toString).toList()));
    }
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    yaml().writeValue(tmp.toFile(), new FileLayout(ft, null, null));
    try (var c = java.nio.channels.FileChannel.open(tmp, java.nio.file.StandardOpenOption.WRITE)) {
      c.force(true);
    }
    Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
  }

  /** Explains how {@code other}'s tiers differ from these, or null when they are the same. */
  public String tierDifference(StorageLayout other) {
    if (other.tiers().size() != tiers.size()) {
      return "it has " + tiers.size() + " tier(s), the config " + other.tiers().size();
    }
    for (int i = 0; i < tiers.size(); i++) {
      TierSpec a = tiers.get(i);
      TierSpec b = other.tiers().get(i);
      if (!a.name().equals(b.name())) {
        return "tier " + (i + 1) + " is '" + a.name() + "', the config names '" + b.name() + "'";
      }
      if (!a.redundancy().equals(b.redundancy())) {
        return "tier '" + a.name() + "' is " + a.redundancy() + ", the config says " + b.redundancy();
      }
      if (!a.devices().equals(b.devices())) {
        return "tier '" + a.name() + "' has devices " + a.devices() + ", the config " + b.devices();
      }
    }
    return null;
  }
}
