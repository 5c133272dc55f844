// PvDCore: the domain model (explicit and implicit PvDs, VPN and static domains),
// lifetimes, sequence numbers and limits. Pure Swift; built on PvDWire.
// The model itself arrives with the daemon issue; this target exists so that the
// package layout of DESIGN.md is in place and its dependency arrows are checked.
import PvDWire
