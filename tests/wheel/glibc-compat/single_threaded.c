/* See sys/single_threaded.h. Hidden: the module's own copy, never glibc's. */
__attribute__((visibility("hidden"))) char __libc_single_threaded = 0;
