#pragma once
// Software prefetch for the replay loop: Swift has no prefetch intrinsic, and a static inline C
// function is inlined into Swift callers by the clang importer.
static inline void ct_prefetch(const void *address) { __builtin_prefetch(address, 0, 3); }
static inline void ct_prefetch_write(const void *address) { __builtin_prefetch(address, 1, 3); }
