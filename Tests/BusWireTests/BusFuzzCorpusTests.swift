import Foundation
import Testing

@testable import BusWire

/// Replays what `scripts/fuzz` kept in `Tests/Fuzz/corpus/bus` through the
/// property the `bus` fuzz target checks, so a found bug stays fixed.
struct BusFuzzCorpusTests {
    @Test func corpusKeepsItsProperties() throws {
        let directory = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fuzz/corpus/bus")
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        #expect(!names.isEmpty, "corpus bus is empty")
        for name in names {
            let bytes = Array(try Data(contentsOf: directory.appendingPathComponent(name)))
            #expect(BusSelfCheck.busMessage(bytes) == nil, "corpus bus/\(name)")
        }
    }
}
