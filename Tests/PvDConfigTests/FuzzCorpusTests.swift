import PvDConfig
import PvDCore
import TestSupport
import Testing

@testable import BusWire
@testable import PvDWire

/// Replays every corpus `scripts/fuzz` kept in `Tests/Fuzz/corpus` through
/// the property its fuzz target checks, so a found bug stays fixed.
struct FuzzCorpusTests {
    @Test(arguments: ["ra", "json", "capture", "dns", "bus", "state", "yaml"])
    func corpusKeepsItsProperties(target: String) {
        let check: ([UInt8]) -> String? =
            switch target {
            case "ra": WireSelfCheck.routerAdvertisement
            case "json": WireSelfCheck.json
            case "capture": WireSelfCheck.capture
            case "dns": WireSelfCheck.dnsAnswer
            case "bus": BusSelfCheck.busMessage
            case "state": CoreSelfCheck.savedState
            default: ConfigSelfCheck.yaml
            }
        let inputs = FuzzCorpus.inputs(target)
        #expect(!inputs.isEmpty, "corpus \(target) is missing or empty")
        for (name, bytes) in inputs {
            #expect(check(bytes) == nil, "corpus \(target)/\(name)")
        }
    }
}
