import Testing

@testable import PvDWire

struct IPv6AddressTests {
    @Test func domainNameTextRoundTripsEveryOctet() throws {
        for byte in UInt8.min...UInt8.max {
            let name = try DomainName("a\\" + String(repeating: "0", count: 3 - String(byte).count) + String(byte) + "b.example")
            #expect(name.labels.first.map(Array.init) == [UInt8(ascii: "a"), byte, UInt8(ascii: "b")])
            #expect(try DomainName(name.description) == name, "\(name.description)")
        }
    }

    @Test(arguments: [
        ("2001:db8::1", "2001:db8::1"),
        ("2001:0DB8:0000:0000:0000:0000:0000:0001", "2001:db8::1"),
        ("::", "::"),
        ("::1", "::1"),
        ("fe80::", "fe80::"),
        ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"),
        ("2001:0:0:1:0:0:0:1", "2001:0:0:1::1"),
        ("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"),
        ("::ffff:192.0.2.1", "::ffff:c000:201"),
    ])
    func formatsPerRFC5952(input: String, expected: String) throws {
        #expect(try #require(IPv6Address(input)).description == expected)
    }

    @Test(arguments: [
        "", ":", ":::", "1::2::3", "12345::", "g::", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7",
        "::1.2.3", "::256.1.1.1", "1:2:3:4:5:6:7:8::", ":1::", "1::2:",
    ])
    func rejectsMalformedText(input: String) {
        #expect(IPv6Address(input) == nil)
    }

    @Test func linkLocalAndMasking() throws {
        #expect(try #require(IPv6Address("fe80::1")).isLinkLocal)
        #expect(try !#require(IPv6Address("fec0::1")).isLinkLocal)
        #expect(IPv6Address("2001:db8:ffff:ffff::1")!.masked(to: 36) == IPv6Address("2001:db8:f000::"))
        #expect(IPv6Prefix("2001:db8::/32")!.contains(IPv6Prefix("2001:db8:1::/48")!))
        #expect(!IPv6Prefix("2001:db8:1::/48")!.contains(IPv6Prefix("2001:db8::/32")!))
        #expect(IPv6Prefix("2001:db8::1/64") == nil, "host bits set")
        #expect(IPv6Prefix("2001:db8::/129") == nil)
    }
}

struct DomainNameTests {
    @Test func textForms() throws {
        #expect(try Array(DomainName("corp.example.com.").wire) == Build.name("corp", "example", "com"))
        #expect(try DomainName(".").isRoot)
        #expect(try DomainName("a\\.b.c").description == "a\\.b.c")
        #expect(try DomainName("a\\.b.c").labels.count == 2)
        #expect(throws: DomainNameError.emptyLabel) { try DomainName("a..b") }
        #expect(throws: DomainNameError.emptyLabel) { try DomainName("") }
        #expect(throws: DomainNameError.labelTooLong(64)) { try DomainName(String(repeating: "x", count: 64)) }
        let long = Array(repeating: String(repeating: "x", count: 63), count: 4).joined(separator: ".")
        #expect(throws: DomainNameError.nameTooLong(257)) { try DomainName(long) }
    }

    @Test func nonPrintableOctetsAreEscaped() throws {
        let ra = try RouterAdvertisement.parse(Build.ra(Build.pvd(id: [3, 0x61, 0x00, 0x20, 0])))
        #expect(ra.pvd?.id.description == "a\\000\\032")
    }
}

struct JSONTests {
    @Test func parsesAndSerializes() throws {
        let text = #"{"a":[1,-2,3.5,true,false,null],"b":{"c":"x\"\\\/\n\u00e9\ud83d\ude00"}}"#
        let value = try JSONValue.parse(Array(text.utf8))
        #expect(value["a"] == .array([.integer(1), .integer(-2), .number(3.5), .bool(true), .bool(false), .null]))
        #expect(value["b"]?["c"] == .string("x\"\\/\n\u{e9}\u{1F600}"))
        #expect(try JSONValue.parse(Array(value.serialized.utf8)) == value)
    }

    @Test(arguments: [
        "42e44444444", "-1e400", "", "{", "[1,]", "{\"a\" 1}", "01", "1.", "\"\\x\"", "\"\u{1}\"", "tru", "[1] 2",
        "\"\\ud800\"", "{\"a\":1,}", "-", "1e",
    ])
    func rejectsInvalid(text: String) {
        #expect(throws: JSONError.self) { try JSONValue.parse(Array(text.utf8)) }
    }

    @Test func depthIsBounded() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: JSONError.self) { try JSONValue.parse(Array(deep.utf8)) }
        let fine = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        #expect((try? JSONValue.parse(Array(fine.utf8))) != nil)
    }

    @Test func rejectsInvalidUTF8() {
        #expect(throws: JSONError.self) { try JSONValue.parse([0x22, 0xFF, 0x22]) }
    }
}

struct RFC3339Tests {
    @Test(arguments: [
        ("1970-01-01T00:00:00Z", Int64(0)),
        ("2017-07-23T06:00:00Z", Int64(1_500_789_600)),
        ("2017-07-23T08:00:00+02:00", Int64(1_500_789_600)),
        ("2000-02-29T12:00:00.123Z", Int64(951_825_600)),
        ("1969-12-31T23:59:59Z", Int64(-1)),
    ])
    func parses(text: String, time: Int64) {
        #expect(RFC3339.parse(text) == time)
    }

    @Test(arguments: [
        "2017-07-23", "2017-13-01T00:00:00Z", "2019-02-29T00:00:00Z", "2017-07-23T06:00:00",
        "2017-07-23T24:00:00Z", "2017-07-23T06:00:00Zjunk", "2017-07-23T06:00:00+2:00",
    ])
    func rejects(text: String) {
        #expect(RFC3339.parse(text) == nil)
    }

    @Test func formatsBack() {
        for time: Int64 in [0, -1, 951_825_600, 1_500_789_600, 4_102_444_800] {
            #expect(RFC3339.parse(RFC3339.format(time)) == time)
        }
    }
}

struct AdditionalInformationTests {
    static let example = #"""
        {"identifier": "pvd.example.com.", "expires": "2017-07-23T06:00:00Z",
         "prefixes": ["2001:db8:1::/48", "2001:db8:4::/48"], "noInternet": true,
         "dnsZones": ["example.com"], "metered": false}
        """#

    @Test func readsTheRFC8801Example() throws {
        let info = try PvDAdditionalInformation.parse(Array(Self.example.utf8))
        #expect(info.identifier == (try DomainName("pvd.example.com")))
        #expect(info.expires == 1_500_789_600)
        #expect(info.prefixes == [IPv6Prefix("2001:db8:1::/48")!, IPv6Prefix("2001:db8:4::/48")!])
        #expect(info.noInternet)
        #expect(info.dnsZones == [try DomainName("example.com")])
    }

    @Test func validatesAgainstTheAdvertisedPvD() throws {
        let info = try PvDAdditionalInformation.parse(Array(Self.example.utf8))
        let id = try DomainName("PVD.example.com")
        let before: Int64 = 1_500_000_000
        try info.validate(pvdID: id, advertisedPrefixes: [IPv6Prefix("2001:db8:1:2::/64")!], now: before)
        #expect(
            throws: AdditionalInformationError.identifierMismatch(
                advertised: try DomainName("other.example.com"),
                document: info.identifier)
        ) {
            try info.validate(pvdID: try DomainName("other.example.com"), advertisedPrefixes: [], now: before)
        }
        #expect(throws: AdditionalInformationError.prefixNotCovered(IPv6Prefix("2001:db8:2::/64")!)) {
            try info.validate(pvdID: id, advertisedPrefixes: [IPv6Prefix("2001:db8:2::/64")!], now: before)
        }
        #expect(throws: AdditionalInformationError.expired(1_500_789_600)) {
            try info.validate(pvdID: id, advertisedPrefixes: [], now: 1_500_789_600)
        }
    }

    @Test(arguments: [
        (#"[]"#, AdditionalInformationError.notAnObject),
        (#"{"expires":"2017-07-23T06:00:00Z","prefixes":[]}"#, .missingKey("identifier")),
        (#"{"identifier":"a.b","prefixes":[]}"#, .missingKey("expires")),
        (#"{"identifier":"a.b","expires":"2017-07-23T06:00:00Z"}"#, .missingKey("prefixes")),
        (#"{"identifier":1,"expires":"2017-07-23T06:00:00Z","prefixes":[]}"#, .wrongType(key: "identifier", expected: "a string")),
        (#"{"identifier":"a.b","expires":"soon","prefixes":[]}"#, .invalidValue(key: "expires", "soon is not an RFC 3339 date-time")),
        (#"{"identifier":"a.b","expires":"2017-07-23T06:00:00Z","prefixes":["x"]}"#, .invalidValue(key: "prefixes", "x is not an IPv6 prefix")),
        (#"{"identifier":"a.b","expires":"2017-07-23T06:00:00Z","prefixes":[1]}"#, .wrongType(key: "prefixes", expected: "an array of strings")),
        (#"{"identifier":"a.b","expires":"2017-07-23T06:00:00Z","prefixes":[],"noInternet":"yes"}"#, .wrongType(key: "noInternet", expected: "a boolean")),
    ])
    func rejectsBadDocuments(text: String, error: AdditionalInformationError) {
        #expect(throws: error) { try PvDAdditionalInformation.parse(Array(text.utf8)) }
    }

    @Test func roundTripsThroughItsJSON() throws {
        let info = try PvDAdditionalInformation.parse(Array(Self.example.utf8))
        #expect(try PvDAdditionalInformation.parse(Array(info.json.serialized.utf8)) == info)
    }
}
