#pragma once
// Debian's jemalloc exports unprefixed symbols: linking it replaces malloc for the whole process.
#include <jemalloc/jemalloc.h>
