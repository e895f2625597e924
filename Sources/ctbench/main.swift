import BenchHarness

CTBench.main()
