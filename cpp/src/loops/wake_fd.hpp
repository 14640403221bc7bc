// A descriptor an event loop can watch for reading (loop.add_reader), made
// readable from any thread without the GIL: the LoopWaker's doorbell.
//
// One class, three implementations:
//   * "eventfd" (Linux): one descriptor, a counter; a write adds, a read
//     takes the count.
//   * "pipe" (other POSIX systems, and Linux under FASTCHAN_PORTABLE): a
//     write writes one byte, a read drains what was written.
//   * "socket" (Windows): a connected TCP socket pair on 127.0.0.1, as
//     Windows has no socketpair and its selectors watch sockets only;
//     fileno() is the reading SOCKET, as the integer asyncio's add_reader
//     takes.
// Each is non-blocking (a full pipe/socket is already readable: a failed
// write loses nothing) and not inherited by child processes.
//
// Needs no Python: tests/check_windows.sh compiles it for Windows alone.
#pragma once

#include <cerrno>
#include <cstdint>
#include <system_error>

#include <fastchan/detail/platform.hpp>

#if defined(_WIN32)
#define FASTCHAN_WAKE_FD_SOCKET 1
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#ifndef NOMINMAX
#define NOMINMAX
#endif
#include <winsock2.h>
#include <ws2tcpip.h>
#include <windows.h>
#elif FASTCHAN_USE_LINUX_APIS
#define FASTCHAN_WAKE_FD_EVENTFD 1
#include <sys/eventfd.h>
#include <unistd.h>
#else
#define FASTCHAN_WAKE_FD_PIPE 1
#include <fcntl.h>
#include <unistd.h>
#endif

namespace fastchan::binding {

class WakeFd {
public:
#if defined(FASTCHAN_WAKE_FD_SOCKET)
    using Descriptor = std::intptr_t;  // a SOCKET, as Python's selectors take it
#else
    using Descriptor = int;
#endif

    // Throws std::system_error if the descriptor(s) cannot be made.
    WakeFd();
    ~WakeFd();
    WakeFd(const WakeFd&) = delete;
    WakeFd& operator=(const WakeFd&) = delete;

    // The descriptor to watch for reading.
    Descriptor fileno() const noexcept;

    // Makes fileno() readable (any thread, no lock needed).
    void signal() noexcept;

    // Reads everything signal() wrote, so fileno() is no longer readable.
    void drain() noexcept;

    // "eventfd", "pipe" or "socket".
    static constexpr const char* kind() noexcept {
#if defined(FASTCHAN_WAKE_FD_SOCKET)
        return "socket";
#elif defined(FASTCHAN_WAKE_FD_EVENTFD)
        return "eventfd";
#else
        return "pipe";
#endif
    }

private:
#if defined(FASTCHAN_WAKE_FD_SOCKET)
    SOCKET read_ = INVALID_SOCKET;
    SOCKET write_ = INVALID_SOCKET;
#else
    int read_fd_ = -1;
    int write_fd_ = -1;  // == read_fd_ for an eventfd
#endif
};

#if defined(FASTCHAN_WAKE_FD_EVENTFD)

inline WakeFd::WakeFd() {
    read_fd_ = write_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (read_fd_ < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
}

inline WakeFd::~WakeFd() { close(read_fd_); }

inline WakeFd::Descriptor WakeFd::fileno() const noexcept { return read_fd_; }

inline void WakeFd::signal() noexcept {
    std::uint64_t one = 1;
    ssize_t written = write(write_fd_, &one, sizeof one);
    (void)written;  // a full eventfd is already readable: nothing is lost
}

inline void WakeFd::drain() noexcept {
    char buffer[64];
    while (read(read_fd_, buffer, sizeof buffer) > 0) {
    }
}

#elif defined(FASTCHAN_WAKE_FD_PIPE)

inline WakeFd::WakeFd() {
    int fds[2];
    if (pipe(fds) != 0) throw std::system_error(errno, std::generic_category(), "pipe");
    for (int fd : fds) {
        int flags = fcntl(fd, F_GETFL);
        if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0 ||
            fcntl(fd, F_SETFD, FD_CLOEXEC) != 0) {
            int error = errno;
            close(fds[0]);
            close(fds[1]);
            throw std::system_error(error, std::generic_category(), "fcntl");
        }
    }
    read_fd_ = fds[0];
    write_fd_ = fds[1];
}

inline WakeFd::~WakeFd() {
    close(write_fd_);
    close(read_fd_);
}

inline WakeFd::Descriptor WakeFd::fileno() const noexcept { return read_fd_; }

inline void WakeFd::signal() noexcept {
    const char byte = 1;
    ssize_t written = write(write_fd_, &byte, 1);
    (void)written;  // a full pipe is already readable: nothing is lost
}

inline void WakeFd::drain() noexcept {
    char buffer[64];
    while (read(read_fd_, buffer, sizeof buffer) > 0) {
    }
}

#else  // FASTCHAN_WAKE_FD_SOCKET

namespace wake_fd_detail {

// Closes what it holds unless released; WSACleanup pairs the WSAStartup.
struct Sockets {
    SOCKET listener = INVALID_SOCKET, reader = INVALID_SOCKET, writer = INVALID_SOCKET;
    bool started = false;

    ~Sockets() {
        for (SOCKET s : {listener, reader, writer})
            if (s != INVALID_SOCKET) closesocket(s);
        if (started) WSACleanup();
    }
};

[[noreturn]] inline void fail(const char* what) {
    throw std::system_error(WSAGetLastError(), std::system_category(), what);
}

inline SOCKET tcp_socket() {
    SOCKET s = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    if (s == INVALID_SOCKET) fail("socket");
    // Not inherited by child processes (as FD_CLOEXEC).
    SetHandleInformation(reinterpret_cast<HANDLE>(s), HANDLE_FLAG_INHERIT, 0);
    return s;
}

inline bool same_address(const sockaddr_in& a, const sockaddr_in& b) noexcept {
    return a.sin_family == b.sin_family && a.sin_port == b.sin_port &&
           a.sin_addr.s_addr == b.sin_addr.s_addr;
}

}  // namespace wake_fd_detail

inline WakeFd::WakeFd() {
    using namespace wake_fd_detail;
    Sockets s;
    WSADATA data;
    int started = WSAStartup(MAKEWORD(2, 2), &data);
    if (started != 0) throw std::system_error(started, std::system_category(), "WSAStartup");
    s.started = true;

    // Listen on an ephemeral loopback port, connect to it, accept.
    s.listener = tcp_socket();
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;
    int length = static_cast<int>(sizeof address);
    if (bind(s.listener, reinterpret_cast<const sockaddr*>(&address), length) != 0) fail("bind");
    if (listen(s.listener, 1) != 0) fail("listen");
    if (getsockname(s.listener, reinterpret_cast<sockaddr*>(&address), &length) != 0)
        fail("getsockname");
    s.writer = tcp_socket();
    if (connect(s.writer, reinterpret_cast<const sockaddr*>(&address), length) != 0) fail("connect");
    s.reader = accept(s.listener, nullptr, nullptr);
    if (s.reader == INVALID_SOCKET) fail("accept");
    SetHandleInformation(reinterpret_cast<HANDLE>(s.reader), HANDLE_FLAG_INHERIT, 0);

    // Another local process may have connected first: the accepted peer
    // must be our writer.
    sockaddr_in writer_address{}, peer_address{};
    int writer_length = static_cast<int>(sizeof writer_address);
    int peer_length = static_cast<int>(sizeof peer_address);
    if (getsockname(s.writer, reinterpret_cast<sockaddr*>(&writer_address), &writer_length) != 0)
        fail("getsockname");
    if (getpeername(s.reader, reinterpret_cast<sockaddr*>(&peer_address), &peer_length) != 0)
        fail("getpeername");
    if (!same_address(writer_address, peer_address))
        throw std::system_error(WSAECONNABORTED, std::system_category(),
                                "socket pair: an unexpected connection");

    // One-byte wake-ups go out at once, and neither end ever blocks.
    BOOL no_delay = TRUE;
    setsockopt(s.writer, IPPROTO_TCP, TCP_NODELAY, reinterpret_cast<const char*>(&no_delay),
               static_cast<int>(sizeof no_delay));
    for (SOCKET end : {s.reader, s.writer}) {
        u_long non_blocking = 1;
        // (FIONBIO is an unsigned constant for a long parameter.)
        if (ioctlsocket(end, static_cast<long>(FIONBIO), &non_blocking) != 0) fail("ioctlsocket");
    }

    read_ = s.reader;
    write_ = s.writer;
    s.reader = s.writer = INVALID_SOCKET;
    s.started = false;  // the destructor's WSACleanup pairs it
}

inline WakeFd::~WakeFd() {
    closesocket(write_);
    closesocket(read_);
    WSACleanup();
}

inline WakeFd::Descriptor WakeFd::fileno() const noexcept {
    return static_cast<Descriptor>(read_);
}

inline void WakeFd::signal() noexcept {
    const char byte = 1;
    int sent = send(write_, &byte, 1, 0);
    (void)sent;  // a full socket buffer is already readable: nothing is lost
}

inline void WakeFd::drain() noexcept {
    char buffer[64];
    while (recv(read_, buffer, static_cast<int>(sizeof buffer), 0) > 0) {
    }
}

#endif

}  // namespace fastchan::binding
