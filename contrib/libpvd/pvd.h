/* libpvd: provisioning domains for applications that choose a domain per
 * connection. Every call goes to pvdd over the system bus (org.pvd1): a
 * socket is made inside the domain's network namespace and handed over, a
 * name is resolved by the domain's own DNS servers. No setuid, no helper
 * process. Who may use a domain is pvdd.yaml's access section.
 *
 * Errors: the calls that return an int return -1 (or an EAI_ code for
 * pvd_getaddrinfo) and set errno: ENOENT no such domain, EACCES the access
 * section does not allow this user, EAGAIN the caller's budget is spent,
 * EINVAL a bad argument, ECONNREFUSED pvdd is not running, EIO anything
 * else. pvd_last_error() says it in words, per thread.
 *
 * The part under "IPv6-mPvD" keeps the names and meaning of the research
 * implementation's library where they map onto namespaces, so that its
 * examples build. */
#ifndef PVD_H
#define PVD_H

#include <netdb.h>
#include <stddef.h>
#include <sys/socket.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A domain's flags (RFC 8801 and its additional information). */
#define PVD_FLAG_HTTP        0x1 /* H: additional information is published */
#define PVD_FLAG_LEGACY      0x2 /* L: legacy hosts may use it */
#define PVD_FLAG_NO_INTERNET 0x4 /* its additional information says noInternet */

/* One domain as pvdd shows it. Lists end with NULL. */
struct pvd_domain {
    char *name;            /* pvd's name for it: what every call takes */
    char *kind;            /* explicit, implicit, static, vpn, namespace */
    char *pvd_id;          /* the PvD ID, "" when it is not an explicit PvD */
    char *state;           /* active, connecting, … */
    char **addresses;      /* address/prefix length */
    char **routes;
    char **dns_servers;
    char **search_domains;
    unsigned flags;        /* PVD_FLAG_* */
    char *additional_info; /* the PvD's document as JSON, "" when none */
};

/* The domains now: *domains and *count, freed with pvd_list_free. */
int pvd_list(struct pvd_domain **domains, size_t *count);
void pvd_list_free(struct pvd_domain *domains, size_t count);

/* A new socket in `domain` (family AF_INET or AF_INET6, type SOCK_STREAM or
 * SOCK_DGRAM, optionally | SOCK_NONBLOCK; protocol 0, IPPROTO_TCP or
 * IPPROTO_UDP): its descriptor, close-on-exec, owned by the caller's uid. */
int pvd_socket(const char *domain, int family, int type, int protocol);

/* getaddrinfo(3) through `domain`'s DNS servers and search list. A numeric
 * `node` is not sent to pvdd. Free the result with pvd_freeaddrinfo (or
 * freeaddrinfo). Returns 0 or an EAI_* code; EAI_SYSTEM sets errno. */
int pvd_getaddrinfo(const char *domain, const char *node, const char *service,
                    const struct addrinfo *hints, struct addrinfo **result);
void pvd_freeaddrinfo(struct addrinfo *result);

/* Domains coming, going and changing. pvd_monitor_fd is readable when
 * pvd_monitor_next has something; pvd_monitor_next waits up to timeout_ms
 * (-1: for ever) and returns 1 with *event and *name (free it), 0 on
 * timeout, -1 on error. */
enum pvd_event { PVD_DOMAIN_ADDED = 1, PVD_DOMAIN_REMOVED = 2, PVD_DOMAIN_CHANGED = 3 };
struct pvd_monitor;
int pvd_monitor_new(struct pvd_monitor **monitor);
int pvd_monitor_fd(struct pvd_monitor *monitor);
int pvd_monitor_next(struct pvd_monitor *monitor, enum pvd_event *event, char **name, int timeout_ms);
void pvd_monitor_free(struct pvd_monitor *monitor);

/* The last failure of this thread's calls, in words. */
const char *pvd_last_error(void);

/* ---- IPv6-mPvD ------------------------------------------------------- */

#define MAXPVD 64

typedef struct {
    int npvd;
    char *pvdnames[MAXPVD];
} t_pvd_list;

typedef struct t_pvd_connection t_pvd_connection;

/* A connection to pvdd (the port is ignored: the bus is used). */
t_pvd_connection *pvd_connect(int port);
void pvd_disconnect(t_pvd_connection *conn);
/* The domains' names; each pvdnames[i] is the caller's to free. */
int pvd_get_pvd_list_sync(t_pvd_connection *conn, t_pvd_list *names);
/* A JSON object with the domain's attributes; the caller frees it. */
int pvd_get_attributes_sync(t_pvd_connection *conn, char *pvdname, char **attributes);
/* One attribute of that object as JSON text; the caller frees it. */
int pvd_get_attribute_sync(t_pvd_connection *conn, char *pvdname, char *attrname, char **value);
/* Socket `s` becomes a new socket in `pvdname` with the same family, type,
 * protocol and O_NONBLOCK, at the same descriptor number (not a binding
 * of the old one: a socket's namespace is fixed when it is made). */
int sock_bind_to_pvd(int s, char *pvdname);

#ifdef __cplusplus
}
#endif

#endif
