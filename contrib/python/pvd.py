"""Provisioning domains for Python programs: sockets and names in a domain.

The same calls as libpvd (pvd.h), which this module loads with ctypes:
every call goes to pvdd over the system bus (org.pvd1); pvdd makes the
socket inside the domain's network namespace and resolves names with the
domain's own DNS servers. Who may use a domain is pvdd.yaml's access section.

    import pvd
    for domain in pvd.domains():
        print(domain["name"], domain["dns_servers"])
    with pvd.create_connection("corp", ("intranet.corp.example", 443)) as s:
        ...

Errors are OSError with errno (ENOENT, EACCES, EAGAIN, EINVAL, ECONNREFUSED)
and pvdd's words; a name without an address is socket.gaierror.
"""

import ctypes
import ctypes.util
import os
import socket as _socket

__all__ = ["domains", "socket", "getaddrinfo", "create_connection", "Monitor", "ADDED", "REMOVED", "CHANGED"]

FLAG_HTTP, FLAG_LEGACY, FLAG_NO_INTERNET = 0x1, 0x2, 0x4
ADDED, REMOVED, CHANGED = 1, 2, 3


class _Domain(ctypes.Structure):
    _fields_ = [
        ("name", ctypes.c_char_p),
        ("kind", ctypes.c_char_p),
        ("pvd_id", ctypes.c_char_p),
        ("state", ctypes.c_char_p),
        ("addresses", ctypes.POINTER(ctypes.c_char_p)),
        ("routes", ctypes.POINTER(ctypes.c_char_p)),
        ("dns_servers", ctypes.POINTER(ctypes.c_char_p)),
        ("search_domains", ctypes.POINTER(ctypes.c_char_p)),
        ("flags", ctypes.c_uint),
        ("additional_info", ctypes.c_char_p),
    ]


def _load():
    path = os.environ.get("PVD_LIBRARY") or ctypes.util.find_library("pvd") or "libpvd.so.0"
    library = ctypes.CDLL(path, use_errno=True)
    library.pvd_last_error.restype = ctypes.c_char_p
    library.pvd_socket.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.c_int, ctypes.c_int]
    library.pvd_list.argtypes = [ctypes.POINTER(ctypes.POINTER(_Domain)), ctypes.POINTER(ctypes.c_size_t)]
    library.pvd_list_free.argtypes = [ctypes.POINTER(_Domain), ctypes.c_size_t]
    library.pvd_getaddrinfo.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p)]
    library.pvd_freeaddrinfo.argtypes = [ctypes.c_void_p]
    library.pvd_monitor_new.argtypes = [ctypes.POINTER(ctypes.c_void_p)]
    library.pvd_monitor_fd.argtypes = [ctypes.c_void_p]
    library.pvd_monitor_next.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_void_p), ctypes.c_int]
    library.pvd_monitor_free.argtypes = [ctypes.c_void_p]
    library.free = ctypes.CDLL(None).free
    library.free.argtypes = [ctypes.c_void_p]
    return library


_library = _load()


def _failure():
    code = ctypes.get_errno()
    return OSError(code, (_library.pvd_last_error() or b"").decode(errors="replace") or os.strerror(code))


def _strings(pointer):
    items = []
    index = 0
    while pointer and pointer[index] is not None:
        items.append(pointer[index].decode())
        index += 1
    return items


def domains():
    """The domains pvdd has, each a dict: name, kind, pvd_id, state,
    addresses, routes, dns_servers, search_domains, flags, no_internet,
    additional_info (the PvD's document as JSON text, "" when none)."""
    listed = ctypes.POINTER(_Domain)()
    count = ctypes.c_size_t()
    if _library.pvd_list(ctypes.byref(listed), ctypes.byref(count)) < 0:
        raise _failure()
    try:
        result = []
        for index in range(count.value):
            domain = listed[index]
            result.append({
                "name": domain.name.decode(),
                "kind": domain.kind.decode(),
                "pvd_id": domain.pvd_id.decode(),
                "state": domain.state.decode(),
                "addresses": _strings(domain.addresses),
                "routes": _strings(domain.routes),
                "dns_servers": _strings(domain.dns_servers),
                "search_domains": _strings(domain.search_domains),
                "flags": domain.flags,
                "no_internet": bool(domain.flags & FLAG_NO_INTERNET),
                "additional_info": domain.additional_info.decode(),
            })
        return result
    finally:
        _library.pvd_list_free(listed, count)


def socket(domain, family=_socket.AF_INET6, type=_socket.SOCK_STREAM, proto=0):
    """A socket.socket made inside `domain` (TCP or UDP, IPv4 or IPv6)."""
    fd = _library.pvd_socket(domain.encode(), int(family), int(type), int(proto))
    if fd < 0:
        raise _failure()
    return _socket.socket(fileno=fd)


class _AddrInfo(ctypes.Structure):
    pass


_AddrInfo._fields_ = [
    ("ai_flags", ctypes.c_int),
    ("ai_family", ctypes.c_int),
    ("ai_socktype", ctypes.c_int),
    ("ai_protocol", ctypes.c_int),
    ("ai_addrlen", ctypes.c_uint32),
    ("ai_addr", ctypes.c_void_p),
    ("ai_canonname", ctypes.c_char_p),
    ("ai_next", ctypes.POINTER(_AddrInfo)),
]


def getaddrinfo(domain, host, port, family=0, type=0, proto=0, flags=0):
    """socket.getaddrinfo through `domain`'s DNS servers and search list:
    a list of (family, type, proto, "", sockaddr)."""
    hints = _AddrInfo(ai_flags=flags, ai_family=int(family), ai_socktype=int(type), ai_protocol=proto)
    result = ctypes.c_void_p()
    service = None if port is None else str(port).encode()
    status = _library.pvd_getaddrinfo(domain.encode(), None if host is None else host.encode(), service, ctypes.byref(hints), ctypes.byref(result))
    if status == _socket.EAI_SYSTEM:
        raise _failure()
    if status != 0:
        raise _socket.gaierror(status, (_library.pvd_last_error() or b"").decode() or "no address in " + domain)
    answers = []
    try:
        entry = ctypes.cast(result, ctypes.POINTER(_AddrInfo))
        while entry:
            info = entry.contents
            raw = ctypes.string_at(info.ai_addr, info.ai_addrlen)
            port_number = int.from_bytes(raw[2:4], "big")
            if info.ai_family == _socket.AF_INET:
                address = (_socket.inet_ntop(_socket.AF_INET, raw[4:8]), port_number)
            else:
                address = (_socket.inet_ntop(_socket.AF_INET6, raw[8:24]), port_number, 0, int.from_bytes(raw[24:28], "little"))
            answers.append((_socket.AddressFamily(info.ai_family), _socket.SocketKind(info.ai_socktype), info.ai_protocol, "", address))
            entry = info.ai_next
    finally:
        _library.pvd_freeaddrinfo(result)
    return answers


def create_connection(domain, address, timeout=None):
    """socket.create_connection inside `domain`: each address the domain's
    DNS gives for the host, in order, until one connects."""
    host, port = address
    failure = None
    for family, kind, proto, _, target in getaddrinfo(domain, host, port, type=_socket.SOCK_STREAM):
        made = socket(domain, family, kind, proto)
        try:
            made.settimeout(timeout)
            made.connect(target)
            return made
        except OSError as error:
            failure = error
            made.close()
    raise failure or OSError("no address for %s in %s" % (host, domain))


class Monitor:
    """Domains coming, going and changing: `next(timeout)` gives
    (event, name) with event ADDED, REMOVED or CHANGED, or None on timeout;
    `fileno()` is readable when there is something to read."""

    def __init__(self):
        self._monitor = ctypes.c_void_p()
        if _library.pvd_monitor_new(ctypes.byref(self._monitor)) < 0:
            raise _failure()

    def fileno(self):
        return _library.pvd_monitor_fd(self._monitor)

    def next(self, timeout=None):
        event = ctypes.c_int()
        name = ctypes.c_void_p()
        status = _library.pvd_monitor_next(self._monitor, ctypes.byref(event), ctypes.byref(name), -1 if timeout is None else int(timeout * 1000))
        if status < 0:
            raise _failure()
        if status == 0:
            return None
        text = ctypes.string_at(name).decode()
        _library.free(name)
        return event.value, text

    def close(self):
        if self._monitor:
            _library.pvd_monitor_free(self._monitor)
            self._monitor = ctypes.c_void_p()

    def __enter__(self):
        return self

    def __exit__(self, *exception):
        self.close()
