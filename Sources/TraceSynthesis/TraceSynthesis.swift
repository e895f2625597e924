/// Placeholder: the TraceSynthesis module (packet builder, trace generator) is being written.
public enum TraceSynthesisModule {}
