// libFuzzer's driver, called from each fuzz executable's main (SwiftPM renames the Swift
// entry point and points main at it, so libFuzzer's own main is never linked).
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
