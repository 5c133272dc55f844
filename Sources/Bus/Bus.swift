// Bus: the org.pvd1 D-Bus objects (sd-bus) and the client proxy used by `pvd`.
// The implementation arrives with the D-Bus issue.
import CSystemd
import PvDCore
