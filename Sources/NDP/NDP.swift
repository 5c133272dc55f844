// NDP: receives Router Advertisements through libndp and sends RS, NS and RA.
// The libndp wrapper arrives with the daemon issue.
import CNDP
import PvDWire
