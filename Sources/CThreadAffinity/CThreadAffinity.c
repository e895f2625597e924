#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include "CThreadAffinity.h"

int ct_pin_current_thread(int k) {
    cpu_set_t allowed;
    CPU_ZERO(&allowed);
    if (sched_getaffinity(0, sizeof allowed, &allowed) != 0) return -1;
    int count = CPU_COUNT(&allowed);
    if (count <= 0 || k < 0) return -1;
    int wanted = k % count;
    for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
        if (!CPU_ISSET(cpu, &allowed)) continue;
        if (wanted-- == 0) {
            cpu_set_t one;
            CPU_ZERO(&one);
            CPU_SET(cpu, &one);
            return pthread_setaffinity_np(pthread_self(), sizeof one, &one) == 0 ? cpu : -1;
        }
    }
    return -1;
}
