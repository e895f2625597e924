/// Placeholder: the TraceIO module (libpcap loading and writing) is being written.
public enum TraceIOModule {}
