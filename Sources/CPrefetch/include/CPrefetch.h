#pragma once
// Software prefetch for the replay loop: Swift has no prefetch intrinsic, and a static inline C
// function is inlined into Swift callers by the clang importer.
static inline void ct_prefetch(const void *address) { __builtin_prefetch(address, 0, 3); }
static inline void ct_prefetch_write(const void *address) { __builtin_prefetch(address, 1, 3); }
// A spin-wait hint (x86 PAUSE): lets the sibling hyperthread run and saves power while a
// worker waits at a barrier for a few microseconds.
static inline void ct_spin_pause(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}
