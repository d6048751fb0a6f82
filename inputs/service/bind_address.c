/* Preloaded (LD_PRELOAD) into a tf.data service server so that it listens on one address only: TensorFlow's
 * servers bind the wildcard address ("0.0.0.0:<port>" in GrpcDataServerBase::Start; gRPC makes it a dual-stack
 * [::] socket) and have no option to bind another. The address is $INPUT_STUDY_BIND_ADDRESS (IPv4 or IPv6).
 *
 * A bind() to the IPv6 wildcard becomes that address (an IPv4 one as ::ffff:a.b.c.d); a bind() to the IPv4
 * wildcard becomes an IPv4 address, and fails (EADDRNOTAVAIL) for an IPv6 one rather than listening on every
 * IPv4 interface. Every other bind(), and every bind() while the variable is unset or unreadable, is passed
 * through unchanged. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

typedef int (*bind_function)(int, const struct sockaddr *, socklen_t);

int bind(int descriptor, const struct sockaddr *address, socklen_t length) {
    static bind_function real_bind;
    if (!real_bind) real_bind = (bind_function)dlsym(RTLD_NEXT, "bind");
    const char *wanted = getenv("INPUT_STUDY_BIND_ADDRESS");
    struct in_addr wanted4;
    struct in6_addr wanted6;
    int is_ipv4 = wanted && inet_pton(AF_INET, wanted, &wanted4) == 1;
    int is_ipv6 = wanted && !is_ipv4 && inet_pton(AF_INET6, wanted, &wanted6) == 1;
    if (!is_ipv4 && !is_ipv6) return real_bind(descriptor, address, length);

    if (address && address->sa_family == AF_INET && length >= sizeof(struct sockaddr_in)) {
        struct sockaddr_in rewritten;
        memcpy(&rewritten, address, sizeof rewritten);
        if (rewritten.sin_addr.s_addr == htonl(INADDR_ANY)) {
            if (!is_ipv4) {
                errno = EADDRNOTAVAIL;
                return -1;
            }
            rewritten.sin_addr = wanted4;
            return real_bind(descriptor, (const struct sockaddr *)&rewritten, sizeof rewritten);
        }
    } else if (address && address->sa_family == AF_INET6 && length >= sizeof(struct sockaddr_in6)) {
        struct sockaddr_in6 rewritten;
        memcpy(&rewritten, address, sizeof rewritten);
        if (IN6_IS_ADDR_UNSPECIFIED(&rewritten.sin6_addr)) {
            if (is_ipv4) { /* the IPv4-mapped form: ::ffff:a.b.c.d */
                memset(&rewritten.sin6_addr, 0, sizeof rewritten.sin6_addr);
                rewritten.sin6_addr.s6_addr[10] = 0xff;
                rewritten.sin6_addr.s6_addr[11] = 0xff;
                memcpy(&rewritten.sin6_addr.s6_addr[12], &wanted4, 4);
            } else {
                rewritten.sin6_addr = wanted6;
            }
            return real_bind(descriptor, (const struct sockaddr *)&rewritten, sizeof rewritten);
        }
    }
    return real_bind(descriptor, address, length);
}
