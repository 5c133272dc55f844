import Testing

@testable import PvDWire

/// SplitMix64: a small seeded generator, so that a failure names its seed.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Random valid RAs: every option kind, random field values, PvD options with
/// and without an RA header, names up to the length limits.
struct RandomRA {
    var rng: SeededGenerator

    mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &rng) }
    mutating func u8() -> UInt8 { UInt8.random(in: .min ... .max, using: &rng) }
    mutating func u16() -> UInt16 { UInt16.random(in: .min ... .max, using: &rng) }
    mutating func u32() -> UInt32 { UInt32.random(in: .min ... .max, using: &rng) }
    mutating func address() -> IPv6Address { IPv6Address(high: rng.next(), low: rng.next()) }

    mutating func header() -> RouterAdvertisementHeader {
        RouterAdvertisementHeader(
            curHopLimit: u8(), flags: u8(), routerLifetime: u16(),
            reachableTime: u32(), retransTimer: u32())
    }

    mutating func name() -> DomainName {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_".utf8)
        var wire: [UInt8] = []
        for _ in 0..<int(1...6) {
            let length = int(1...DomainName.maximumLabelLength)
            guard wire.count + length + 2 <= DomainName.maximumWireLength else { break }
            wire.append(UInt8(length))
            for _ in 0..<length { wire.append(alphabet[int(0...alphabet.count - 1)]) }
        }
        return DomainName(validatedWire: (wire + [0])[...])
    }

    mutating func option() -> NDOption {
        switch int(0...7) {
        case 0: return .sourceLinkLayerAddress((0..<(int(1...2) * 8 - 2)).map { _ in u8() }[...])
        case 1: return .mtu(u32())
        case 2:
            var pio = PrefixInformation(
                prefix: IPv6Prefix(address: address(), length: int(0...128))!,
                flags: u8(), validLifetime: u32(), preferredLifetime: u32())
            if pio.routerAddress { pio.address = address() }
            return .prefixInformation(pio)
        case 3:
            let length = int(0...128)
            var rio = RouteInformation(prefix: IPv6Prefix(address: address(), length: length)!, lifetime: u32())
            rio.flags = u8()
            rio.optionLength = UInt8(int(Int(rio.optionLength)...3))
            return .routeInformation(rio)
        case 4: return .recursiveDNSServers(RecursiveDNSServers(lifetime: u32(), servers: (0..<int(1...4)).map { _ in address() }))
        case 5: return .dnsSearchList(DNSSearchList(lifetime: u32(), domains: (0..<int(1...3)).map { _ in name() }))
        case 6:
            let known: Set<UInt8> = [1, 3, 5, 21, 24, 25, 31]
            var type = u8()
            while known.contains(type) || type == 0 { type = u8() }
            return .unknown(type: type, body: (0..<(int(1...3) * 8 - 2)).map { _ in u8() }[...])
        default: return .mtu(1500)
        }
    }

    mutating func pvd() -> PvDOption {
        PvDOption(
            id: name(), http: Bool.random(using: &rng), legacy: Bool.random(using: &rng),
            delay: UInt8(int(0...15)), sequence: u16(),
            routerAdvertisementHeader: Bool.random(using: &rng) ? header() : nil,
            options: (0..<int(0...6)).map { _ in option() })
    }

    mutating func routerAdvertisement() -> RouterAdvertisement {
        var options = (0..<int(0...8)).map { _ in option() }
        if int(0...3) > 0 { options.insert(.provisioningDomain(pvd()), at: int(0...options.count)) }
        return RouterAdvertisement(checksum: u16(), header: header(), options: options)
    }
}

struct RoundTripPropertyTests {
    @Test(arguments: 0..<8)
    func randomValidRAsRoundTrip(seed: UInt64) throws {
        var random = RandomRA(rng: SeededGenerator(state: seed))
        for iteration in 0..<1000 {
            let ra = random.routerAdvertisement()
            let bytes = try ra.encoded()
            var notes: [ParseNote] = []
            let decoded = try RouterAdvertisement.parse(bytes, notes: &notes)
            #expect(decoded == ra, "seed \(seed) iteration \(iteration)")
            #expect(notes.isEmpty, "seed \(seed) iteration \(iteration)")
            #expect(try decoded.encoded() == bytes, "seed \(seed) iteration \(iteration)")
            #expect(WireSelfCheck.routerAdvertisement(bytes) == nil)
            #expect(bytes.count % 8 == 0)
        }
    }

    @Test func randomNamesSurviveTextForm() throws {
        var random = RandomRA(rng: SeededGenerator(state: 99))
        for _ in 0..<2000 {
            let name = random.name()
            #expect(try DomainName(name.description) == name)
        }
    }

    @Test func randomAddressesSurviveTextForm() {
        var random = RandomRA(rng: SeededGenerator(state: 7))
        for _ in 0..<5000 {
            var address = random.address()
            // Bias towards zero runs so that "::" placement is exercised.
            if random.int(0...1) == 0 { address.low &= 0xFFFF_0000_0000_FFFF }
            if random.int(0...1) == 0 { address.high &= 0xFFFF_0000_0000_0000 }
            #expect(IPv6Address(address.description) == address, "\(address)")
        }
    }
}
