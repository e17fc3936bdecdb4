package io.dynamicfs.core.storage;

import java.nio.file.Path;
import java.util.List;

/** One tier of a layout: its name, redundancy and device directories (absolute, normalised). */
public record TierSpec(String name, Redundancy redundancy, List<Path> devices) {
  public TierSpec {
    devices = List.copyOf(devices);
  }
}
