package dev.mobius.server.secrets;

/** The stored boxes of one version: its values under its data key, the data key under a master key. */
public record SealedVersion(String id, byte[] sealedValues, byte[] dataKey, String masterKeyId) {}
