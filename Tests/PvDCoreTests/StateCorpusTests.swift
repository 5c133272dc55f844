import Foundation
import PvDCore
import Testing

/// Replays the inputs `scripts/fuzz` kept in `Tests/Fuzz/corpus/state` through
/// the property the fuzz target checks, so a found bug stays fixed.
struct StateCorpusTests {
    @Test func corpusKeepsItsProperties() throws {
        let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fuzz/corpus/state")
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        #expect(!names.isEmpty, "corpus state is empty")
        for name in names {
            let bytes = Array(try Data(contentsOf: directory.appendingPathComponent(name)))
            #expect(CoreSelfCheck.savedState(bytes) == nil, "corpus state/\(name)")
        }
    }
}
