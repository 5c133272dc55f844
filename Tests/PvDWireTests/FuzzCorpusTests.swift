import Foundation
import Testing

@testable import PvDWire

/// Replays the inputs that `scripts/fuzz` kept in `Tests/Fuzz/corpus/TARGET` through
/// the same properties the fuzz targets check, so a found bug stays fixed.
struct FuzzCorpusTests {
    static let corpusRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Tests/Fuzz/corpus")

    static func inputs(_ target: String) throws -> [(String, [UInt8])] {
        let directory = corpusRoot.appendingPathComponent(target)
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        return try names.map { name in
            (name, Array(try Data(contentsOf: directory.appendingPathComponent(name))))
        }
    }

    @Test(arguments: ["ra", "json", "capture"])
    func corpusKeepsItsProperties(target: String) throws {
        let check: ([UInt8]) -> String? =
            switch target {
            case "ra": WireSelfCheck.routerAdvertisement
            case "json": WireSelfCheck.json
            default: WireSelfCheck.capture
            }
        let inputs = try Self.inputs(target)
        #expect(!inputs.isEmpty, "corpus \(target) is empty")
        for (name, bytes) in inputs {
            #expect(check(bytes) == nil, "corpus \(target)/\(name)")
        }
    }
}
