import Testing

@testable import PvDWire

/// RFC 8801 §3.1, Figure 2: a PvD option for example.org with sequence 123, the
/// H flag and delay 1, carrying an RDNSS option (length 5: two servers) and a
/// PIO (length 4); the whole option has length 12. The figure fixes every octet
/// of the PvD header and the nested options' types and lengths; it elides their
/// contents, which are documentation values here.
struct RFC8801ExampleTests {
    static let optionBytes: [UInt8] = [
        21, 12, 0b1000_0000, 0x01,  // Type 21, Length 12, H=1 L=0 R=0, Delay 1
        0x00, 123, 7, 0x65,  // Sequence 123, "\7e"
        0x78, 0x61, 0x6D, 0x70,  // "xamp"
        0x6C, 0x65, 3, 0x6F,  // "le\3o"
        0x72, 0x67, 0, 0,  // "rg", root label, padding
        0, 0, 0, 0,  // padding to 24 octets
        25, 5, 0, 0, 0x00, 0x00, 0x0E, 0x10,  // RDNSS, length 5, lifetime 3600
        0x20, 0x01, 0x0D, 0xB8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x53,
        0x20, 0x01, 0x0D, 0xB8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x54,
        3, 4, 64, 0xC0,  // PIO, length 4, /64, L and A
        0x00, 0x01, 0x51, 0x80, 0x00, 0x00, 0x38, 0x40,  // valid 86400, preferred 14400
        0, 0, 0, 0,  // reserved
        0x20, 0x01, 0x0D, 0xB8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    ]

    static let raHeader: [UInt8] = [134, 0, 0, 0, 64, 0, 0x07, 0x08, 0, 0, 0, 0, 0, 0, 0, 0]

    static var expected: PvDOption {
        PvDOption(
            id: try! DomainName("example.org"), http: true, delay: 1, sequence: 123,
            options: [
                .recursiveDNSServers(
                    RecursiveDNSServers(
                        lifetime: 3600, servers: [IPv6Address("2001:db8::53")!, IPv6Address("2001:db8::54")!])),
                .prefixInformation(
                    PrefixInformation(
                        prefix: IPv6Prefix("2001:db8:1::/64")!, flags: 0xC0, validLifetime: 86400, preferredLifetime: 14400)),
            ])
    }

    @Test func figureIsNinetySixOctets() {
        #expect(Self.optionBytes.count == 12 * 8)
    }

    @Test func decodesFigure2() throws {
        var notes: [ParseNote] = []
        let ra = try RouterAdvertisement.parse(Self.raHeader + Self.optionBytes, notes: &notes)
        #expect(notes.isEmpty)
        #expect(ra.options == [.provisioningDomain(Self.expected)])
        let pvd = try #require(ra.pvd)
        #expect(pvd.id.description == "example.org")
        #expect(pvd.sequence == 123 && pvd.http && !pvd.legacy && !pvd.hasRouterAdvertisementHeader)
    }

    @Test func encodesFigure2ByteForByte() throws {
        let ra = RouterAdvertisement(
            header: RouterAdvertisementHeader(curHopLimit: 64, routerLifetime: 1800),
            options: [.provisioningDomain(Self.expected)])
        #expect(try ra.encoded() == Self.raHeader + Self.optionBytes)
    }

    @Test func pvdIDComparesCaseInsensitively() throws {
        #expect(try DomainName("PvD.Example.coM.") == DomainName("pvd.example.com"))
        #expect(try DomainName("PvD.Example.coM").hashValue == DomainName("pvd.example.com").hashValue)
        #expect(try DomainName("pvd.example.com") != DomainName("pvd.example.co"))
    }
}
