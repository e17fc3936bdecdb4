package io.dynamicfs.cli;

import io.dynamicfs.core.format.DataDirectory;
import picocli.CommandLine;

/** Version from the jar manifest (or "dev" when run from classes). */
final class VersionProvider implements CommandLine.IVersionProvider {
  /** This build's version ("dev" when run from classes). */
  static String version() {
    String v = Main.class.getPackage().getImplementationVersion();
    return v == null ? "dev" : v;
  }

  @Override
  public String[] getVersion() {
    return new String[] {"dynamicfs " + version() + " (data format " + DataDirectory.FORMAT_VERSION
        + ", Java " + System.getProperty("java.version") + ")"};
  }
}
