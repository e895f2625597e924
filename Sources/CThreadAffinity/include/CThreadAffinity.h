#ifndef CTHREADAFFINITY_H
#define CTHREADAFFINITY_H

/// Pins the calling thread to the `k`-th processor (modulo their number) of the set the process
/// may run on. Returns the processor's number, or -1 when the set could not be read or applied.
/// (cpu_set_t and its macros are not visible from Swift.)
int ct_pin_current_thread(int k);

#endif
