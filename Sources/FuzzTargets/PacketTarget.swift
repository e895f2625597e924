import Datapath

/// The `packet` target: a short trace of fuzzed frames (`FuzzFrames`) through the parser and a
/// `DefaultPipeline`, checking every verdict and the pipeline's accounts.
enum PacketTarget {
    static func run(_ input: UnsafeRawBufferPointer) -> [String] {
        let frames = FuzzFrames(input)
        let pipeline = DefaultPipeline(config: frames.config, expectationLimits: frames.expectationLimits,
                                       algsEnabled: frames.algsEnabled)
        var checks = Invariants()
        TraceReplay(trace: frames.trace).run(loop: 0, through: pipeline) { index, verdict in
            PipelineInvariants.check(verdict, index: index, &checks)
        }
        PipelineInvariants.check(pipeline, packets: frames.trace.count, &checks)
        return checks.violations
    }
}
