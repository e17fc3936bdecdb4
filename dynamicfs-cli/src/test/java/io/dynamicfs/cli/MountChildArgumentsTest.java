package io.dynamicfs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * A background mount restarts itself as a child with {@link MountCommand#childArguments}: the child must
 * run with every option the user gave, so the child's arguments parse back to the same settings (the
 * effective configuration a mount reports) as the user's.
 */
class MountChildArgumentsTest {
  @TempDir Path tmp;

  /** Parsed as {@code call} sees it: with --cluster the one positional argument is MNT. */
  private static MountCommand parse(List<String> args) {
    MountCommand m = new MountCommand();
    new CommandLine(m).parseArgs(args.toArray(new String[0]));
    if (m.cluster != null && m.mountPoint == null) {
      m.mountPoint = m.data;
      m.data = null;
    }
    return m;
  }

  /** The child's own arguments without the leading "mount" and without those only a child gets. */
  private static MountCommand child(MountCommand parent, Path ready) {
    List<String> a = new ArrayList<>(parent.childArguments(ready));
    assertEquals("mount", a.remove(0));
    return parse(a);
  }

  @Test
  void aClusterMountsChild_keepsEveryOption() throws Exception {
    Path token = Files.writeString(tmp.resolve("token"), "x");
    Path mnt = Files.createDirectories(tmp.resolve("mnt"));
    MountCommand user = parse(List.of("--cluster", "127.0.0.1:7000,127.0.0.1:7010", "--token-file", token.toString(),
        "--client-address", "10.0.0.5", "--async-metadata", "off", "--cache-memory", "32M", "--fuse-preset", "safe",
        mnt.toString()));
    MountCommand c = child(user, tmp.resolve("ready"));
    assertEquals("off", c.asyncMetadata, "--async-metadata reaches the child");
    assertEquals(user.effectiveConfig(), c.effectiveConfig());
  }

  @Test
  void aSingleNodeMountsChild_keepsEveryOption() throws Exception {
    Path data = Files.createDirectories(tmp.resolve("data"));
    Path mnt = Files.createDirectories(tmp.resolve("mnt"));
    MountCommand user = parse(List.of("--cache-memory", "48M", "--compression", "zstd", "--fuse-preset", "safe",
        data.toString(), mnt.toString()));
    MountCommand c = child(user, tmp.resolve("ready"));
    assertEquals(user.effectiveConfig(), c.effectiveConfig());
    assertTrue(c.childArguments(tmp.resolve("ready")).contains("--foreground"));
  }

  /** The daemon gets the {@code dfs.*} tuning properties the command was started with, and no others. */
  @Test
  void theDaemonInheritsTheDfsProperties_only() {
    java.util.Properties p = new java.util.Properties();
    p.setProperty("dfs.fuse.spinUs", "0");
    p.setProperty("dfs.fuse.readers", "2");
    p.setProperty("java.io.tmpdir", "/elsewhere");
    p.setProperty("dfsx", "1");
    assertEquals(List.of("-Ddfs.fuse.readers=2", "-Ddfs.fuse.spinUs=0"), Daemonizer.forwardedProperties(p));
    assertEquals(List.of(), Daemonizer.forwardedProperties(new java.util.Properties()));
  }
}
