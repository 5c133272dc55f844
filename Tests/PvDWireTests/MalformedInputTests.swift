import Testing

@testable import PvDWire

/// Builders for hand-made messages. Offsets in the expectations below count
/// from the ICMPv6 type octet; the first option always starts at 16.
enum Build {
    static let header: [UInt8] = [134, 0, 0, 0, 64, 0, 0x07, 0x08, 0, 0, 0, 0, 0, 0, 0, 0]

    static func ra(_ options: [UInt8]...) -> [UInt8] { header + options.flatMap { $0 } }

    static func zeros(_ count: Int) -> [UInt8] { Array(repeating: 0, count: count) }

    /// Wire form of a name from its labels, root label added.
    static func name(_ labels: String...) -> [UInt8] {
        labels.flatMap { [UInt8($0.utf8.count)] + Array($0.utf8) } + [0]
    }

    static func address(_ text: String) -> [UInt8] { IPv6Address(text)!.octets }

    /// A PvD option; length and padding are computed unless given.
    static func pvd(
        flags: UInt16 = 0, sequence: UInt16 = 1, id: [UInt8] = name("corp"), padding: [UInt8]? = nil,
        length: Int? = nil, tail: [UInt8] = []
    ) -> [UInt8] {
        var body = [UInt8(flags >> 8), UInt8(flags & 0xFF), UInt8(sequence >> 8), UInt8(sequence & 0xFF)] + id
        body += padding ?? zeros((8 - (body.count + 2) % 8) % 8)
        body += tail
        return [21, UInt8(length ?? (body.count + 2) / 8)] + body
    }

    static func pio(prefixLength: UInt8 = 64, length: UInt8 = 4) -> [UInt8] {
        [3, length, prefixLength, 0xC0, 0, 0, 0x0E, 0x10, 0, 0, 0x07, 0x08, 0, 0, 0, 0] + address("2001:db8:1::")
    }

    static func rdnss(servers: Int = 1) -> [UInt8] {
        [25, UInt8(1 + 2 * servers), 0, 0, 0, 0, 0x02, 0x58] + (0..<servers).flatMap { _ in address("2001:db8::53") }
    }

    static func dnssl(_ names: [UInt8], length: Int? = nil) -> [UInt8] {
        var body: [UInt8] = [0, 0, 0, 0, 0x02, 0x58] + names
        body += zeros((8 - (body.count + 2) % 8) % 8)
        return [31, UInt8(length ?? (body.count + 2) / 8)] + body
    }
}

/// One malformed or edge-case message and what decoding it must give.
struct MalformedCase: Sendable, CustomTestStringConvertible {
    enum Outcome: Sendable {
        /// This exact typed error.
        case error(ParseError)
        /// Decodes, reporting these tolerances (RFC "ignore" rules).
        case tolerated([ParseNote])
        /// Decodes with no note.
        case accepted
    }

    let name: String
    let bytes: [UInt8]
    let outcome: Outcome

    var testDescription: String { name }

    static func error(
        _ name: String, _ bytes: [UInt8], _ reason: ParseError.Reason, _ part: MessagePart,
        _ field: MessageField, at offset: Int
    ) -> MalformedCase {
        MalformedCase(name: name, bytes: bytes, outcome: .error(ParseError(reason, part: part, field: field, offset: offset)))
    }
}

extension MalformedCase {
    typealias B = Build
    static let pvdType = OptionType.provisioningDomain
    static let fiveLongLabels = Array(repeating: String(repeating: "x", count: 60), count: 5)

    static let all: [MalformedCase] = [
        // The RA header.
        .error("empty message", [], .truncated(needed: 16, available: 0), .header, .body, at: 0),
        .error("truncated RA header", Array(B.header.prefix(10)), .truncated(needed: 16, available: 10), .header, .body, at: 0),
        .error("not an RA (NS, type 135)", [135] + B.header.dropFirst(), .notRouterAdvertisement(type: 135), .header, .type, at: 0),
        .error("non-zero ICMPv6 code", [134, 1] + B.header.dropFirst(2), .nonZeroCode(1), .header, .code, at: 1),

        // Top-level option framing.
        .error("zero-length option", B.ra([3, 0] + B.zeros(30)), .zeroLength, .option(3), .length, at: 17),
        .error(
            "option running past the end", B.ra(Array(B.pio().prefix(10))),
            .truncated(needed: 32, available: 10), .option(3), .length, at: 17),
        .error(
            "lone octet after the options", B.ra(B.rdnss(), [5]),
            .truncated(needed: 2, available: 1), .option(5), .length, at: 40),
        .error("zero bytes as options", B.ra(B.zeros(64)), .zeroLength, .option(0), .length, at: 17),

        // Fixed-size options with the wrong length, and bad values.
        .error("MTU of length 2", B.ra([5, 2] + B.zeros(14)), .invalidLength(2, allowed: "1"), .option(5), .length, at: 17),
        .error(
            "PIO of length 3", B.ra(Array(B.pio(length: 3).prefix(24))),
            .invalidLength(3, allowed: "4"), .option(3), .length, at: 17),
        .error(
            "PIO prefix length 129", B.ra(B.pio(prefixLength: 129)),
            .prefixLengthTooLong(129), .option(3), .prefixLength, at: 18),
        .error(
            "RIO of length 4", B.ra([24, 4, 48, 0] + B.zeros(28)),
            .invalidLength(4, allowed: "1, 2 or 3"), .option(24), .length, at: 17),
        .error(
            "RIO /65 in length 2", B.ra([24, 2, 65, 0] + B.zeros(12)),
            .invalidLength(2, allowed: "at least 3 for prefix length 65"), .option(24), .length, at: 17),
        .error(
            "RIO /1 in length 1", B.ra([24, 1, 1, 0, 0, 0, 0, 0]),
            .invalidLength(1, allowed: "at least 2 for prefix length 1"), .option(24), .length, at: 17),
        .error(
            "RIO prefix length 200", B.ra([24, 3, 200, 0] + B.zeros(20)),
            .prefixLengthTooLong(200), .option(24), .prefixLength, at: 18),

        // RDNSS and DNSSL.
        .error(
            "RDNSS with no address", B.ra([25, 1, 0, 0, 0, 0, 0, 60]),
            .invalidLength(1, allowed: "odd and at least 3"), .option(25), .length, at: 17),
        .error(
            "RDNSS of even length", B.ra([25, 4] + B.zeros(30)),
            .invalidLength(4, allowed: "odd and at least 3"), .option(25), .length, at: 17),
        .error(
            "DNSSL of length 1", B.ra([31, 1, 0, 0, 0, 0, 0, 60]),
            .invalidLength(1, allowed: "at least 2"), .option(31), .length, at: 17),
        .error("DNSSL with only padding", B.ra(B.dnssl(B.zeros(8))), .noDomainNames, .option(31), .domainName, at: 24),
        .error(
            "DNSSL label longer than 63", B.ra(B.dnssl([64] + B.zeros(64) + [0])),
            .labelTooLong(64), .option(31), .domainName, at: 24),
        .error(
            "DNSSL reserved label type 0x80", B.ra(B.dnssl([0x80, 0])),
            .labelTooLong(128), .option(31), .domainName, at: 24),
        .error(
            "DNSSL compression pointer", B.ra(B.dnssl(B.name("corp") + [0xC0, 0x18])),
            .compressionPointer, .option(31), .domainName, at: 30),
        .error(
            "DNSSL name without root label", B.ra([31, 2, 0, 0, 0, 0, 0, 60, 7] + Array("example".utf8)),
            .missingRootLabel, .option(31), .domainName, at: 24),
        .error(
            "DNSSL non-zero octet in padding", B.ra([31, 3, 0, 0, 0, 0, 0, 60] + B.name("example") + [0, 0, 0, 0, 0, 9, 0]),
            .nonZeroPadding, .option(31), .padding, at: 38),

        // The PvD option: its ID.
        .error(
            "PvD ID label longer than 63", B.ra(B.pvd(id: [64] + B.zeros(64) + [0])),
            .labelTooLong(64), .option(pvdType), .pvdID, at: 22),
        .error(
            "PvD ID longer than 255", B.ra(B.pvd(id: fiveLongLabels.flatMap { [60] + Array($0.utf8) } + [0])),
            .nameTooLong(305), .option(pvdType), .pvdID, at: 22),
        .error(
            "PvD ID with compression pointer", B.ra(B.pvd(id: [4] + Array("corp".utf8) + [0xC0, 0x10, 0])),
            .compressionPointer, .option(pvdType), .pvdID, at: 27),
        .error(
            "PvD ID missing root label", B.ra([21, 2, 0, 0, 0, 1, 9] + Array("corporate".utf8)),
            .missingRootLabel, .option(pvdType), .pvdID, at: 22),
        .error("PvD ID root only", B.ra(B.pvd(id: [0])), .emptyName, .option(pvdType), .pvdID, at: 22),
        .error(
            "PvD option of length 1 cannot hold its ID", B.ra([21, 1, 0, 0, 0, 1, 4, 0x63]),
            .missingRootLabel, .option(pvdType), .pvdID, at: 22),

        // The PvD option: R flag, padding, nesting.
        .error(
            "R flag with no room for the RA header", B.ra(B.pvd(flags: 0x2000)),
            .truncated(needed: 16, available: 0), .option(pvdType), .raHeader, at: 32),
        .error(
            "R flag with a partial RA header", B.ra(B.pvd(flags: 0x2000, tail: B.header.prefix(8) + [])),
            .truncated(needed: 16, available: 8), .option(pvdType), .raHeader, at: 32),
        .error(
            "PvD padding longer than to the next 8 octets", B.ra(B.pvd(padding: B.zeros(4 + 8))),
            .zeroLength, .nestedOption(0), .length, at: 33),
        .error(
            "nested option running past the PvD option", B.ra(B.pvd(tail: Array(B.pio().prefix(8)))),
            .truncated(needed: 32, available: 8), .nestedOption(3), .length, at: 33),
        .error(
            "nested zero-length option", B.ra(B.pvd(tail: [25, 0] + B.zeros(6))),
            .zeroLength, .nestedOption(25), .length, at: 33),
        .error(
            "nested RDNSS with no address", B.ra(B.pvd(tail: [25, 1, 0, 0, 0, 0, 1, 0])),
            .invalidLength(1, allowed: "odd and at least 3"), .nestedOption(25), .length, at: 33),
        .error(
            "PvD option running past the end", B.ra(Array(B.pvd(tail: B.rdnss()).prefix(20))),
            .truncated(needed: 40, available: 20), .option(pvdType), .length, at: 17),

        // Tolerances that RFC 8801 asks a receiver to apply.
        MalformedCase(
            name: "non-zero PvD padding (ignored)", bytes: B.ra(B.pvd(padding: [0, 7, 0, 0])),
            outcome: .tolerated([ParseNote(kind: .nonZeroPvDPadding, offset: 29)])),
        MalformedCase(
            name: "reserved PvD flags (ignored)", bytes: B.ra(B.pvd(flags: 0x1FF0)),
            outcome: .tolerated([ParseNote(kind: .reservedPvDFlags(0x1FF0), offset: 18)])),
        MalformedCase(
            name: "PvD inside PvD (ignored)",
            bytes: B.ra(B.pvd(tail: B.pvd(id: B.name("inner")) + B.rdnss())),
            outcome: .tolerated([ParseNote(kind: .nestedPvDOption, offset: 32)])),
        MalformedCase(
            name: "two PvD options (second ignored)",
            bytes: B.ra(B.pvd(), B.pvd(id: B.name("second"))),
            outcome: .tolerated([ParseNote(kind: .additionalPvDOption, offset: 32)])),
        MalformedCase(
            name: "nested RA header with stray type, code and checksum (ignored)",
            bytes: B.ra(B.pvd(flags: 0x2000, tail: [99, 9, 0xAB, 0xCD] + B.header.dropFirst(4))),
            outcome: .accepted),
        MalformedCase(name: "unknown option kept", bytes: B.ra([200, 1, 1, 2, 3, 4, 5, 6]), outcome: .accepted),
        MalformedCase(name: "RIO /0 in length 1", bytes: B.ra([24, 1, 0, 0x08, 0, 0, 0, 60]), outcome: .accepted),
        MalformedCase(
            name: "PvD ID of 255 octets",
            bytes: B.ra(
                B.pvd(
                    id: [63] + B.zeros(63) + [63] + B.zeros(63)
                        + [63] + B.zeros(63) + [61] + B.zeros(61) + [0])),
            outcome: .accepted),
    ]
}

struct MalformedInputTests {
    @Test func suiteHasAtLeastThirtyErrorCases() {
        let errors = MalformedCase.all.filter { if case .error = $0.outcome { true } else { false } }
        #expect(errors.count >= 30)
    }

    @Test(arguments: MalformedCase.all)
    func decodesAsDocumented(_ testCase: MalformedCase) {
        var notes: [ParseNote] = []
        let result = Result { () throws(ParseError) in try RouterAdvertisement.parse(testCase.bytes, notes: &notes) }
        switch (testCase.outcome, result) {
        case (.error(let expected), .failure(let error)):
            #expect(error == expected)
        case (.tolerated(let expected), .success(let ra)):
            #expect(notes == expected)
            #expect(WireSelfCheck.routerAdvertisement(testCase.bytes) == nil)
            #expect(ra.options.count { if case .provisioningDomain = $0 { true } else { false } } == 1)
        case (.accepted, .success):
            #expect(notes.isEmpty)
            #expect(WireSelfCheck.routerAdvertisement(testCase.bytes) == nil)
        case (_, .failure(let error)):
            Issue.record("expected success, got \(error)")
        case (_, .success(let ra)):
            Issue.record("expected an error, decoded \(ra)")
        }
    }

    @Test func errorTextNamesPartFieldAndOffset() throws {
        let error = #expect(throws: ParseError.self) {
            try RouterAdvertisement.parse(Build.ra(Build.pvd(id: [64] + Build.zeros(64) + [0])))
        }
        #expect(error?.description == "PvD option (21), field PvD ID, offset 22: label of 64 octets is longer than 63")
    }

    @Test func nestedPvDIsDroppedButSiblingsKept() throws {
        let ra = try RouterAdvertisement.parse(Build.ra(Build.pvd(tail: Build.pvd(id: Build.name("inner")) + Build.rdnss())))
        let pvd = try #require(ra.pvd)
        #expect(pvd.id == (try DomainName("corp")))
        #expect(pvd.options.count == 1)
        guard case .recursiveDNSServers = pvd.options.first else {
            Issue.record("RDNSS lost")
            return
        }
    }

    @Test func onlyTheFirstPvDCounts() throws {
        let ra = try RouterAdvertisement.parse(Build.ra(Build.pvd(), Build.pvd(id: Build.name("second"))))
        #expect(ra.pvd?.id == (try DomainName("corp")))
    }
}
