package io.dynamicfs.cli;

import io.dynamicfs.core.format.DataDirectory;
import picocli.CommandLine;

/** Version from the jar manifest (or "dev" when run from classes). */
final class VersionProvider implements CommandLine.IVersionProvider {
  @Override
  public String[] getVersion() {
    String v = Main.class.getPackage().getImplementationVersion();
    return new String[] {"dynamicfs " + (v == null ? "dev" : v) + " (data format " + DataDirectory.FORMAT_VERSION
        + ", Java " + System.getProperty("java.version") + ")"};
  }
}
