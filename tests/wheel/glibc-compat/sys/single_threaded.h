/* Stands in for glibc's <sys/single_threaded.h> (glibc >= 2.32) when the
   extension is built against older glibc for a manylinux wheel:
   libstdc++'s headers read this flag to skip atomics in a single-threaded
   process. Ours, in single_threaded.c, is always 0: always the atomics. */
#pragma once
#ifdef __cplusplus
extern "C"
#endif
    __attribute__((visibility("hidden"))) char __libc_single_threaded;
