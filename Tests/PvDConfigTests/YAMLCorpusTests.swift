import Foundation
import PvDConfig
import Testing

/// Replays the inputs `scripts/fuzz` kept in `Tests/Fuzz/corpus/yaml` through
/// the property the fuzz target checks, so a found bug stays fixed.
struct YAMLCorpusTests {
    @Test func corpusKeepsItsProperties() throws {
        let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fuzz/corpus/yaml")
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        #expect(!names.isEmpty, "corpus yaml is empty")
        for name in names {
            let bytes = Array(try Data(contentsOf: directory.appendingPathComponent(name)))
            #expect(ConfigSelfCheck.yaml(bytes) == nil, "corpus yaml/\(name)")
        }
    }
}
