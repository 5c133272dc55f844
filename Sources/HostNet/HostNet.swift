// HostNet: realises domains in the kernel (namespaces, links, addresses, routes,
// rules, proxy NDP, resolv.conf) through libnl-route-3 and the C shim.
// The implementation arrives with the HostNet issue.
import CNetlinkRoute
import CPvDShim
import PvDCore
