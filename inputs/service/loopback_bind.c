/* Preloaded (LD_PRELOAD) into the tf.data service servers that the study starts for itself, so that they
 * listen on the loopback address only: TensorFlow's servers bind the wildcard address and have no option
 * to bind another. A bind() to the IPv4 wildcard becomes 127.0.0.1; to the IPv6 wildcard (gRPC's dual-stack
 * socket), ::ffff:127.0.0.1. Every other bind() is passed through unchanged. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

typedef int (*bind_function)(int, const struct sockaddr *, socklen_t);

int bind(int descriptor, const struct sockaddr *address, socklen_t length) {
    static bind_function real_bind;
    if (!real_bind) real_bind = (bind_function)dlsym(RTLD_NEXT, "bind");
    if (address && address->sa_family == AF_INET && length >= sizeof(struct sockaddr_in)) {
        struct sockaddr_in loopback;
        memcpy(&loopback, address, sizeof loopback);
        if (loopback.sin_addr.s_addr == htonl(INADDR_ANY)) {
            loopback.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            return real_bind(descriptor, (const struct sockaddr *)&loopback, sizeof loopback);
        }
    } else if (address && address->sa_family == AF_INET6 && length >= sizeof(struct sockaddr_in6)) {
        static const unsigned char mapped_loopback[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1};
        struct sockaddr_in6 loopback;
        memcpy(&loopback, address, sizeof loopback);
        if (IN6_IS_ADDR_UNSPECIFIED(&loopback.sin6_addr)) {
            memcpy(&loopback.sin6_addr, mapped_loopback, sizeof mapped_loopback);
            return real_bind(descriptor, (const struct sockaddr *)&loopback, sizeof loopback);
        }
    }
    return real_bind(descriptor, address, length);
}
