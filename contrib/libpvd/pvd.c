/* libpvd over sd-bus: each call is one or a few method calls to org.pvd1 on
 * the calling thread's default system bus connection (sd_bus_default_system).
 * Over 400 lines because it is one library: the bus calls, the addrinfo
 * list, the monitor and the IPv6-mPvD names, each short. */
#define _GNU_SOURCE
#include "pvd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#define PVD_EXPORT __attribute__((visibility("default")))

static const char *service = "org.pvd1";
static const char *manager_path = "/org/pvd1";
static const char *manager_interface = "org.pvd1.Manager";
static const char *domain_interface = "org.pvd1.Domain";

static __thread char last_error[512];

PVD_EXPORT const char *pvd_last_error(void) { return last_error; }

/* Records the failure's words and errno; returns -1. */
static int failed(int code, const char *format, ...) {
    va_list arguments;
    va_start(arguments, format);
    vsnprintf(last_error, sizeof last_error, format, arguments);
    va_end(arguments);
    errno = code;
    return -1;
}

/* A bus error as errno and words. */
static int bus_failed(const char *what, const sd_bus_error *error, int result) {
    int code = EIO;
    const char *name = error && error->name ? error->name : "";
    if (strcmp(name, "org.pvd1.Error.UnknownDomain") == 0 || strcmp(name, "org.pvd1.Error.AmbiguousName") == 0) code = ENOENT;
    else if (strcmp(name, "org.pvd1.Error.AccessDenied") == 0) code = EACCES;
    else if (strcmp(name, "org.pvd1.Error.Busy") == 0) code = EAGAIN;
    else if (strcmp(name, "org.pvd1.Error.InvalidArguments") == 0 || strcmp(name, "org.pvd1.Error.InvalidName") == 0) code = EINVAL;
    else if (strcmp(name, "org.freedesktop.DBus.Error.ServiceUnknown") == 0 || strcmp(name, "org.freedesktop.DBus.Error.NameHasNoOwner") == 0)
        return failed(ECONNREFUSED, "%s: pvdd is not running", what);
    if (error && error->message) return failed(code, "%s: %s", what, error->message);
    return failed(result < 0 ? -result : code, "%s: %s", what, strerror(result < 0 ? -result : code));
}

/* This thread's system bus connection (a new reference). */
static sd_bus *system_bus(void) {
    sd_bus *bus = NULL;
    int result = sd_bus_default_system(&bus);
    if (result < 0) {
        failed(-result, "cannot reach the system bus: %s", strerror(-result));
        return NULL;
    }
    return bus;
}

/* Calls a manager method; *reply is the caller's to unref. */
static int call(const char *what, sd_bus_message **reply, const char *member, const char *types, ...) {
    sd_bus *bus = system_bus();
    if (!bus) return -1;
    sd_bus_message *message = NULL;
    sd_bus_error error = SD_BUS_ERROR_NULL;
    int result = sd_bus_message_new_method_call(bus, &message, service, manager_path, manager_interface, member);
    if (result >= 0) {
        va_list arguments;
        va_start(arguments, types);
        result = sd_bus_message_appendv(message, types, arguments);
        va_end(arguments);
    }
    if (result >= 0) result = sd_bus_call(bus, message, 0, &error, reply);
    int status = result < 0 ? bus_failed(what, &error, result) : 0;
    sd_bus_error_free(&error);
    sd_bus_message_unref(message);
    sd_bus_unref(bus);
    return status;
}

PVD_EXPORT int pvd_socket(const char *domain, int family, int type, int protocol) {
    if (!domain) return failed(EINVAL, "pvd_socket: no domain");
    sd_bus_message *reply = NULL;
    if (call("OpenSocket", &reply, "OpenSocket", "siii", domain, family, type, protocol) < 0) return -1;
    int received = -1;
    int result = sd_bus_message_read(reply, "h", &received);
    /* The reply owns its descriptor; the caller gets a copy. */
    int fd = result >= 0 ? fcntl(received, F_DUPFD_CLOEXEC, 3) : -1;
    int saved = errno;
    sd_bus_message_unref(reply);
    if (result < 0) return failed(EIO, "OpenSocket: a reply without a descriptor");
    if (fd < 0) return failed(saved, "OpenSocket: %s", strerror(saved));
    return fd;
}

/* The port `service` names for `socktype`: a number, or a name from services(5). */
static int port_of(const char *name, int socktype, in_port_t *port) {
    *port = 0;
    if (!name) return 0;
    char *end = NULL;
    long number = strtol(name, &end, 10);
    if (*name && end && *end == 0) {
        if (number < 0 || number > 65535) return EAI_SERVICE;
        *port = htons((in_port_t)number);
        return 0;
    }
    struct servent entry, *found = NULL;
    char buffer[1024];
    getservbyname_r(name, socktype == SOCK_DGRAM ? "udp" : "tcp", &entry, buffer, sizeof buffer, &found);
    if (!found) return EAI_SERVICE;
    *port = (in_port_t)found->s_port;
    return 0;
}

/* One addrinfo with its address in the same allocation (so that glibc's freeaddrinfo frees it too). */
static struct addrinfo *entry(int family, const void *address, in_port_t port, int socktype) {
    struct addrinfo *info = calloc(1, sizeof *info + sizeof(struct sockaddr_in6));
    if (!info) return NULL;
    info->ai_family = family;
    info->ai_socktype = socktype;
    info->ai_protocol = socktype == SOCK_DGRAM ? IPPROTO_UDP : IPPROTO_TCP;
    info->ai_addr = (struct sockaddr *)(info + 1);
    if (family == AF_INET) {
        struct sockaddr_in *v4 = (struct sockaddr_in *)info->ai_addr;
        v4->sin_family = AF_INET;
        v4->sin_port = port;
        memcpy(&v4->sin_addr, address, 4);
        info->ai_addrlen = sizeof *v4;
    } else {
        struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)info->ai_addr;
        v6->sin6_family = AF_INET6;
        v6->sin6_port = port;
        memcpy(&v6->sin6_addr, address, 16);
        info->ai_addrlen = sizeof *v6;
    }
    return info;
}

/* Appends an entry per socket type wanted; false when out of memory. */
static int append(struct addrinfo ***tail, int family, const void *address, const char *service, int socktype, int *status) {
    int types[2] = {SOCK_STREAM, SOCK_DGRAM};
    for (int index = 0; index < 2; index++) {
        if (socktype && socktype != types[index]) continue;
        in_port_t port;
        int problem = port_of(service, types[index], &port);
        if (problem) {
            *status = problem;
            continue;
        }
        struct addrinfo *info = entry(family, address, port, types[index]);
        if (!info) return 0;
        **tail = info;
        *tail = &info->ai_next;
    }
    return 1;
}

PVD_EXPORT void pvd_freeaddrinfo(struct addrinfo *result) {
    while (result) {
        struct addrinfo *next = result->ai_next;
        free(result->ai_canonname);
        free(result);
        result = next;
    }
}

PVD_EXPORT int pvd_getaddrinfo(const char *domain, const char *node, const char *service, const struct addrinfo *hints,
                               struct addrinfo **result) {
    int family = hints ? hints->ai_family : AF_UNSPEC;
    int socktype = hints ? hints->ai_socktype : 0;
    int flags = hints ? hints->ai_flags : 0;
    *result = NULL;
    if (!node && !service) return EAI_NONAME;
    if (family != AF_UNSPEC && family != AF_INET && family != AF_INET6) return EAI_FAMILY;
    if (socktype != 0 && socktype != SOCK_STREAM && socktype != SOCK_DGRAM) return EAI_SOCKTYPE;
    struct addrinfo *list = NULL, **tail = &list;
    int status = 0;
    unsigned char address[16];
    if (!node) {
        /* No name: the wildcard or the loopback address, as getaddrinfo gives. */
        int passive = flags & AI_PASSIVE;
        if (family != AF_INET && !append(&tail, AF_INET6, passive ? &in6addr_any : &in6addr_loopback, service, socktype, &status)) goto memory;
        struct in_addr v4 = {htonl(passive ? INADDR_ANY : INADDR_LOOPBACK)};
        if (family != AF_INET6 && !append(&tail, AF_INET, &v4, service, socktype, &status)) goto memory;
    } else if (family != AF_INET && inet_pton(AF_INET6, node, address) == 1) {
        if (!append(&tail, AF_INET6, address, service, socktype, &status)) goto memory;
    } else if (family != AF_INET6 && inet_pton(AF_INET, node, address) == 1) {
        if (!append(&tail, AF_INET, address, service, socktype, &status)) goto memory;
    } else if (flags & AI_NUMERICHOST) {
        return EAI_NONAME;
    } else {
        if (!domain) return failed(EINVAL, "pvd_getaddrinfo: no domain"), EAI_SYSTEM;
        sd_bus_message *reply = NULL;
        if (call("ResolveName", &reply, "ResolveName", "ssi", domain, node, family) < 0) {
            return errno == EIO && strstr(last_error, "has no address") ? EAI_NONAME : EAI_SYSTEM;
        }
        int read = sd_bus_message_enter_container(reply, 'a', "(iay)");
        while (read > 0 && (read = sd_bus_message_enter_container(reply, 'r', "iay")) > 0) {
            int answer_family = 0;
            const void *bytes = NULL;
            size_t size = 0;
            if (sd_bus_message_read(reply, "i", &answer_family) < 0 || sd_bus_message_read_array(reply, 'y', &bytes, &size) < 0) break;
            sd_bus_message_exit_container(reply);
            if ((answer_family == AF_INET && size == 4) || (answer_family == AF_INET6 && size == 16)) {
                if (!append(&tail, answer_family, bytes, service, socktype, &status)) {
                    sd_bus_message_unref(reply);
                    goto memory;
                }
            }
        }
        sd_bus_message_unref(reply);
    }
    if (!list) return status ? status : EAI_NONAME;
    *result = list;
    return 0;
memory:
    pvd_freeaddrinfo(list);
    return EAI_MEMORY;
}

/* A property as text ("s"), or NULL. */
static char *text_property(sd_bus *bus, const char *path, const char *name) {
    char *value = NULL;
    sd_bus_error error = SD_BUS_ERROR_NULL;
    sd_bus_get_property_string(bus, service, path, domain_interface, name, &error, &value);
    sd_bus_error_free(&error);
    return value ? value : strdup("");
}

/* A property as a NULL-terminated list ("as"). */
static char **list_property(sd_bus *bus, const char *path, const char *name) {
    char **value = NULL;
    sd_bus_error error = SD_BUS_ERROR_NULL;
    sd_bus_get_property_strv(bus, service, path, domain_interface, name, &error, &value);
    sd_bus_error_free(&error);
    return value ? value : calloc(1, sizeof(char *));
}

/* The Flags property ("a{sb}") as PVD_FLAG_* bits. */
static unsigned flags_property(sd_bus *bus, const char *path) {
    sd_bus_message *reply = NULL;
    sd_bus_error error = SD_BUS_ERROR_NULL;
    unsigned flags = 0;
    if (sd_bus_get_property(bus, service, path, domain_interface, "Flags", &error, &reply, "a{sb}") >= 0 &&
        sd_bus_message_enter_container(reply, 'a', "{sb}") > 0) {
        const char *key = NULL;
        int value = 0;
        while (sd_bus_message_read(reply, "{sb}", &key, &value) > 0) {
            if (!value) continue;
            if (strcmp(key, "H") == 0) flags |= PVD_FLAG_HTTP;
            else if (strcmp(key, "L") == 0) flags |= PVD_FLAG_LEGACY;
            else if (strcmp(key, "noInternet") == 0) flags |= PVD_FLAG_NO_INTERNET;
        }
    }
    sd_bus_error_free(&error);
    sd_bus_message_unref(reply);
    return flags;
}

static void free_list(char **list) {
    for (char **item = list; item && *item; item++) free(*item);
    free(list);
}

PVD_EXPORT void pvd_list_free(struct pvd_domain *domains, size_t count) {
    for (size_t index = 0; domains && index < count; index++) {
        struct pvd_domain *domain = &domains[index];
        free(domain->name);
        free(domain->kind);
        free(domain->pvd_id);
        free(domain->state);
        free_list(domain->addresses);
        free_list(domain->routes);
        free_list(domain->dns_servers);
        free_list(domain->search_domains);
        free(domain->additional_info);
    }
    free(domains);
}

PVD_EXPORT int pvd_list(struct pvd_domain **domains, size_t *count) {
    *domains = NULL;
    *count = 0;
    sd_bus_message *reply = NULL;
    if (call("ListDomains", &reply, "ListDomains", "") < 0) return -1;
    sd_bus *bus = system_bus();
    struct pvd_domain *list = NULL;
    size_t used = 0;
    const char *name = NULL, *kind = NULL, *path = NULL;
    int result = bus ? sd_bus_message_enter_container(reply, 'a', "(sso)") : -1;
    while (result > 0 && sd_bus_message_read(reply, "(sso)", &name, &kind, &path) > 0) {
        struct pvd_domain *grown = realloc(list, (used + 1) * sizeof *list);
        if (!grown) {
            result = -ENOMEM;
            break;
        }
        list = grown;
        struct pvd_domain *domain = &list[used++];
        domain->name = strdup(name);
        domain->kind = strdup(kind);
        domain->pvd_id = text_property(bus, path, "PvDId");
        domain->state = text_property(bus, path, "State");
        domain->addresses = list_property(bus, path, "Addresses");
        domain->routes = list_property(bus, path, "Routes");
        domain->dns_servers = list_property(bus, path, "DnsServers");
        domain->search_domains = list_property(bus, path, "SearchDomains");
        domain->flags = flags_property(bus, path);
        domain->additional_info = text_property(bus, path, "AdditionalInfo");
    }
    sd_bus_message_unref(reply);
    sd_bus_unref(bus);
    if (result < 0) {
        pvd_list_free(list, used);
        return bus ? failed(result == -ENOMEM ? ENOMEM : EIO, "ListDomains: cannot read the reply") : -1;
    }
    *domains = list;
    *count = used;
    return 0;
}

/* ---- the monitor ---------------------------------------------------- */

#define QUEUED 64

struct pvd_monitor {
    sd_bus *bus;
    struct {
        enum pvd_event event;
        char *name;
    } queue[QUEUED];
    int head, size;
};

static void enqueue(struct pvd_monitor *monitor, enum pvd_event event, const char *name) {
    if (monitor->size == QUEUED) return; /* a reader that far behind lists again */
    int slot = (monitor->head + monitor->size++) % QUEUED;
    monitor->queue[slot].event = event;
    monitor->queue[slot].name = strdup(name);
}

static int manager_signal(sd_bus_message *message, void *context, sd_bus_error *error) {
    (void)error;
    const char *name = NULL, *path = NULL;
    if (sd_bus_message_read(message, "so", &name, &path) < 0) return 0;
    enqueue(context, sd_bus_message_is_signal(message, NULL, "DomainAdded") ? PVD_DOMAIN_ADDED : PVD_DOMAIN_REMOVED, name);
    return 0;
}

static int properties_changed(sd_bus_message *message, void *context, sd_bus_error *error) {
    (void)error;
    const char *path = sd_bus_message_get_path(message);
    const char *prefix = "/org/pvd1/domain/";
    if (!path || strncmp(path, prefix, strlen(prefix)) != 0) return 0;
    /* The path's label, unescaped (_xx is a byte in hex). */
    char name[256];
    size_t used = 0;
    for (const char *c = path + strlen(prefix); *c && used + 1 < sizeof name; c++) {
        unsigned byte;
        if (*c == '_' && sscanf(c + 1, "%2x", &byte) == 1) {
            name[used++] = (char)byte;
            c += 2;
        } else {
            name[used++] = *c;
        }
    }
    name[used] = 0;
    enqueue(context, PVD_DOMAIN_CHANGED, name);
    return 0;
}

PVD_EXPORT int pvd_monitor_new(struct pvd_monitor **result) {
    struct pvd_monitor *monitor = calloc(1, sizeof *monitor);
    if (!monitor) return failed(ENOMEM, "pvd_monitor_new: out of memory");
    int status = sd_bus_open_system(&monitor->bus);
    if (status >= 0)
        status = sd_bus_match_signal(monitor->bus, NULL, service, manager_path, manager_interface, "DomainAdded", manager_signal, monitor);
    if (status >= 0)
        status = sd_bus_match_signal(monitor->bus, NULL, service, manager_path, manager_interface, "DomainRemoved", manager_signal, monitor);
    if (status >= 0)
        status = sd_bus_add_match(monitor->bus, NULL,
                                  "type='signal',sender='org.pvd1',interface='org.freedesktop.DBus.Properties',"
                                  "member='PropertiesChanged',path_namespace='/org/pvd1/domain'",
                                  properties_changed, monitor);
    if (status < 0) {
        pvd_monitor_free(monitor);
        return failed(-status, "pvd_monitor_new: %s", strerror(-status));
    }
    *result = monitor;
    return 0;
}

PVD_EXPORT int pvd_monitor_fd(struct pvd_monitor *monitor) { return sd_bus_get_fd(monitor->bus); }

PVD_EXPORT int pvd_monitor_next(struct pvd_monitor *monitor, enum pvd_event *event, char **name, int timeout_ms) {
    while (monitor->size == 0) {
        int processed = sd_bus_process(monitor->bus, NULL);
        if (processed < 0) return failed(-processed, "the bus: %s", strerror(-processed));
        if (processed > 0) continue;
        int waited = sd_bus_wait(monitor->bus, timeout_ms < 0 ? (uint64_t)-1 : (uint64_t)timeout_ms * 1000);
        if (waited < 0) return failed(-waited, "the bus: %s", strerror(-waited));
        if (waited == 0) return 0;
    }
    *event = monitor->queue[monitor->head].event;
    *name = monitor->queue[monitor->head].name;
    monitor->head = (monitor->head + 1) % QUEUED;
    monitor->size--;
    return 1;
}

PVD_EXPORT void pvd_monitor_free(struct pvd_monitor *monitor) {
    if (!monitor) return;
    for (int index = 0; index < monitor->size; index++) free(monitor->queue[(monitor->head + index) % QUEUED].name);
    sd_bus_flush_close_unref(monitor->bus);
    free(monitor);
}

/* ---- IPv6-mPvD ------------------------------------------------------ */

struct t_pvd_connection {
    int unused;
};

PVD_EXPORT t_pvd_connection *pvd_connect(int port) {
    (void)port;
    sd_bus *bus = system_bus();
    if (!bus) return NULL;
    sd_bus_unref(bus);
    return calloc(1, sizeof(t_pvd_connection));
}

PVD_EXPORT void pvd_disconnect(t_pvd_connection *conn) { free(conn); }

PVD_EXPORT int pvd_get_pvd_list_sync(t_pvd_connection *conn, t_pvd_list *names) {
    (void)conn;
    struct pvd_domain *domains = NULL;
    size_t count = 0;
    names->npvd = 0;
    if (pvd_list(&domains, &count) < 0) return -1;
    for (size_t index = 0; index < count && names->npvd < MAXPVD; index++) {
        names->pvdnames[names->npvd++] = strdup(domains[index].name);
    }
    pvd_list_free(domains, count);
    return 0;
}

/* JSON text of a string. */
static void json_string(FILE *out, const char *text) {
    fputc('"', out);
    for (const unsigned char *c = (const unsigned char *)text; *c; c++) {
        if (*c == '"' || *c == '\\') fprintf(out, "\\%c", *c);
        else if (*c < 0x20) fprintf(out, "\\u%04x", *c);
        else fputc(*c, out);
    }
    fputc('"', out);
}

static void json_list(FILE *out, char **list) {
    fputc('[', out);
    for (char **item = list; item && *item; item++) {
        if (item != list) fputc(',', out);
        json_string(out, *item);
    }
    fputc(']', out);
}

/* The attributes IPv6-mPvD's calls name, in the order its object lists them. */
static const char *attribute_names[] = {"name", "kind", "pvdId", "state", "addresses", "routes", "rdnss",
                                        "dnssl", "hFlag", "lFlag", "noInternet", "extraInfo"};
#define ATTRIBUTES (sizeof attribute_names / sizeof *attribute_names)

/* Writes attribute `index` of `domain` as JSON. */
static void write_attribute(FILE *out, const struct pvd_domain *domain, size_t index) {
    switch (index) {
    case 0: json_string(out, domain->name); break;
    case 1: json_string(out, domain->kind); break;
    case 2: json_string(out, domain->pvd_id); break;
    case 3: json_string(out, domain->state); break;
    case 4: json_list(out, domain->addresses); break;
    case 5: json_list(out, domain->routes); break;
    case 6: json_list(out, domain->dns_servers); break;
    case 7: json_list(out, domain->search_domains); break;
    case 8: fputs(domain->flags & PVD_FLAG_HTTP ? "true" : "false", out); break;
    case 9: fputs(domain->flags & PVD_FLAG_LEGACY ? "true" : "false", out); break;
    case 10: fputs(domain->flags & PVD_FLAG_NO_INTERNET ? "true" : "false", out); break;
    /* pvdd's additional information is JSON already ({"status":…,"document":…}). */
    default: fputs(domain->additional_info[0] ? domain->additional_info : "null", out); break;
    }
}

/* The attributes of `pvdname` (a name or a PvD ID) as JSON: all of them
 * (`only` < 0) as an object, or attribute `only`'s value. */
static int attributes_json(const char *pvdname, int only, char **result) {
    struct pvd_domain *domains = NULL;
    size_t count = 0;
    if (pvd_list(&domains, &count) < 0) return -1;
    struct pvd_domain *domain = NULL;
    for (size_t index = 0; index < count && !domain; index++) {
        if (strcmp(domains[index].name, pvdname) == 0 || strcmp(domains[index].pvd_id, pvdname) == 0) domain = &domains[index];
    }
    if (!domain) {
        pvd_list_free(domains, count);
        return failed(ENOENT, "no domain is called \"%s\"", pvdname);
    }
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    if (!out) {
        pvd_list_free(domains, count);
        return failed(ENOMEM, "out of memory");
    }
    if (only >= 0) {
        write_attribute(out, domain, (size_t)only);
    } else {
        for (size_t index = 0; index < ATTRIBUTES; index++) {
            fputs(index == 0 ? "{" : ",", out);
            json_string(out, attribute_names[index]);
            fputc(':', out);
            write_attribute(out, domain, index);
        }
        fputc('}', out);
    }
    fclose(out);
    pvd_list_free(domains, count);
    *result = text;
    return 0;
}

PVD_EXPORT int pvd_get_attributes_sync(t_pvd_connection *conn, char *pvdname, char **attributes) {
    (void)conn;
    return attributes_json(pvdname, -1, attributes);
}

PVD_EXPORT int pvd_get_attribute_sync(t_pvd_connection *conn, char *pvdname, char *attrname, char **value) {
    (void)conn;
    for (size_t index = 0; index < ATTRIBUTES; index++) {
        if (strcmp(attribute_names[index], attrname) == 0) return attributes_json(pvdname, (int)index, value);
    }
    return failed(ENOENT, "no attribute %s", attrname);
}

PVD_EXPORT int sock_bind_to_pvd(int s, char *pvdname) {
    int family = 0, type = 0, protocol = 0;
    socklen_t length = sizeof(int);
    if (getsockopt(s, SOL_SOCKET, SO_DOMAIN, &family, &length) < 0 || getsockopt(s, SOL_SOCKET, SO_TYPE, &type, &length) < 0 ||
        getsockopt(s, SOL_SOCKET, SO_PROTOCOL, &protocol, &length) < 0) {
        return failed(errno, "sock_bind_to_pvd: descriptor %d is not a socket", s);
    }
    int status = fcntl(s, F_GETFL);
    int descriptor = fcntl(s, F_GETFD);
    int fresh = pvd_socket(pvdname, family, type | (status >= 0 && (status & O_NONBLOCK) ? SOCK_NONBLOCK : 0), protocol);
    if (fresh < 0) return -1;
    int moved = dup3(fresh, s, descriptor >= 0 && (descriptor & FD_CLOEXEC) ? O_CLOEXEC : 0);
    int saved = errno;
    close(fresh);
    return moved < 0 ? failed(saved, "sock_bind_to_pvd: %s", strerror(saved)) : 0;
}
