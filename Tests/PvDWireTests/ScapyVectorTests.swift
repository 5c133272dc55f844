import Foundation
import Testing

@testable import PvDWire

/// Packets built by scapy (`scapy_vectors.py`, Debian's python3-scapy) rather
/// than by our encoder, decoded and compared with what the script put in them.
struct ScapyVectorTests {
    static let python = "/usr/bin/python3"
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("scapy_vectors.py").path

    /// Whether scapy is importable; scripts/test installs it, so only a bare
    /// `swift test` on a machine without it skips (and says so).
    static let scapyAvailable: Bool = {
        guard FileManager.default.isExecutableFile(atPath: python) else { return false }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = ["-c", "import scapy.layers.inet6"]
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }()

    static func vectors() throws -> [(name: String, bytes: [UInt8], expect: JSONValue)] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [script]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "scapy_vectors.py failed")
        return try data.split(separator: UInt8(ascii: "\n")).map { line in
            let vector = try JSONValue.parse(Array(line))
            guard case .string(let name) = vector["name"], case .string(let hex) = vector["hex"],
                let bytes = Hex.decode(hex), let expect = vector["expect"]
            else {
                throw JSONError(problem: "malformed vector line", offset: 0)
            }
            return (name, bytes, expect)
        }
    }

    /// Every key of `expected` is in `actual` with an equal value; objects inside
    /// are compared the same way, arrays element by element with equal counts.
    static func mismatches(_ expected: JSONValue, _ actual: JSONValue, path: String = "") -> [String] {
        switch (expected, actual) {
        case (.object(let members), .object):
            return members.flatMap { member in
                guard let value = actual[member.key] else { return ["\(path).\(member.key) missing"] }
                return mismatches(member.value, value, path: "\(path).\(member.key)")
            }
        case (.array(let expectedItems), .array(let actualItems)):
            guard expectedItems.count == actualItems.count else {
                return ["\(path): \(actualItems.count) items, expected \(expectedItems.count)"]
            }
            return zip(expectedItems, actualItems).enumerated().flatMap { index, pair in
                mismatches(pair.0, pair.1, path: "\(path)[\(index)]")
            }
        default:
            return expected == actual ? [] : ["\(path): \(actual.serialized), expected \(expected.serialized)"]
        }
    }

    @Test(.enabled(if: scapyAvailable, "Debian's python3-scapy is not installed at /usr/bin/python3"))
    func scapyPacketsDecodeToWhatWasBuilt() throws {
        let vectors = try Self.vectors()
        #expect(vectors.count == 6)
        for vector in vectors {
            var notes: [ParseNote] = []
            let ra = try RouterAdvertisement.parse(vector.bytes, notes: &notes)
            #expect(notes.isEmpty, "\(vector.name)")
            #expect(Self.mismatches(vector.expect, ra.json) == [], "\(vector.name)")
            #expect(try ra.encoded() == vector.bytes, "\(vector.name): encode(parse(x)) != x")
        }
    }
}
