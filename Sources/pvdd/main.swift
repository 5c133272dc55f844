// pvdd, the provisioning-domain daemon. Its event loop, RA listener and domain
// reconciliation arrive with the daemon issue; until then it says so and fails.
import CCap
import Bus
import HostNet
import NDP
import PvDCore

#if canImport(Glibc)
import Glibc
#endif

var message = "pvdd: the daemon is not implemented yet; see README.md for what works today\n"
message.withUTF8 { _ = write(STDERR_FILENO, $0.baseAddress, $0.count) }
exit(1)
