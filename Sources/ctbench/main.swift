import BenchHarness

await CTBench.runMain()
