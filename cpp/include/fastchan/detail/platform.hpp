// The one switch between Linux-only calls and their portable equivalents.
//
// FASTCHAN_USE_LINUX_APIS is 1 on Linux (futex, eventfd, sched_getcpu, the
// initial-exec TLS model) unless FASTCHAN_PORTABLE is defined: then Linux
// builds the code other systems run (a parking table of mutexes and
// condition variables, a pipe, no CPU query), so that code is tested here.
// CMake's -DFASTCHAN_PORTABLE=ON defines FASTCHAN_PORTABLE for every target
// that links fastchan::fastchan. Every Linux-only path tests this macro,
// never __linux__ itself.
#pragma once

#if defined(__linux__) && !defined(FASTCHAN_PORTABLE)
#define FASTCHAN_USE_LINUX_APIS 1
#else
#define FASTCHAN_USE_LINUX_APIS 0
#endif
