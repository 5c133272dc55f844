import PvDWire
import TestSupport
import Testing

@testable import PvDCore

struct SHA256Tests {
    @Test(arguments: [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        (
            "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
        ),
    ])
    func knownAnswers(input: String, digest: String) {
        #expect(Hex.encode(SHA256.hash(Array(input.utf8))) == digest)
    }

    @Test func millionAs() {
        var hasher = SHA256()
        for _ in 0..<1000 { hasher.update(Array(repeating: UInt8(ascii: "a"), count: 1000)) }
        #expect(Hex.encode(hasher.finalize()) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }
}

struct DomainNamingTests {
    @Test func derivedNamesFitTheKernelsLimits() throws {
        let naming = try DomainNaming(name: "corp.example.com")
        #expect(naming.namespace == "pvd-corp.example.com")
        #expect(naming.hostLink.utf8.count <= 15)
        #expect(DomainNaming.slot(ofHostLink: naming.hostLink) == naming.slot)
        #expect(naming.table == DomainNaming.tableBase + UInt32(naming.slot))
        #expect(naming.dropRulePriority == naming.rulePriority + 1)
        #expect(Int(naming.slot) < DomainNaming.slotCount)
        #expect(try DomainNaming(name: "corp.example.com") == naming, "stable across calls")
    }

    @Test(arguments: ["", "../x", "a/b", "Corp", "-x", ".x", "a b", String(repeating: "x", count: 201)])
    func rejectsBadNames(name: String) {
        #expect(throws: DomainNameRuleError.self) { try DomainNaming(name: name) }
    }

    @Test func everyRuleComesBeforeTheMainTable() throws {
        let last = try DomainNaming(name: "x", slot: UInt16(DomainNaming.slotCount - 1))
        #expect(last.dropRulePriority < 32766)
        #expect(try DomainNaming(name: "x", slot: UInt16(DomainNaming.slotCount)).slot == 0)
    }

    @Test func slotParsing() {
        #expect(DomainNaming.slot(ofHostLink: "pvh00ff") == 0xFF)
        #expect(DomainNaming.slot(ofHostLink: "pvhbeef") == nil, "beyond the slot range")
        #expect(DomainNaming.slot(ofHostLink: "pvhxyz1") == nil)
        #expect(DomainNaming.slot(ofHostLink: "eth0") == nil)
        #expect(DomainNaming.slot(ofHostLink: "pvh00ff0") == nil)
    }
}

struct StableAddressTests {
    let prefix = IPv6Prefix("2001:db8:1::/64")!

    @Test func sameInputsSameAddress() {
        let a = StableAddress.address(in: prefix, domain: "corp", secret: [1, 2, 3])
        #expect(a == StableAddress.address(in: prefix, domain: "corp", secret: [1, 2, 3]))
        #expect(prefix.contains(a))
    }

    @Test func otherInputsOtherAddress() {
        let a = StableAddress.address(in: prefix, domain: "corp", secret: [1, 2, 3])
        #expect(a != StableAddress.address(in: prefix, domain: "home", secret: [1, 2, 3]))
        #expect(a != StableAddress.address(in: prefix, domain: "corp", secret: [1, 2, 4]))
        #expect(a != StableAddress.address(in: prefix, domain: "corp", secret: [1, 2, 3], attempt: 1))
        #expect(a.low != StableAddress.address(in: IPv6Prefix("2001:db8:2::/64")!, domain: "corp", secret: [1, 2, 3]).low)
    }

    @Test func reservedIdentifiersAreSkipped() {
        #expect(StableAddress.isReserved(0))
        #expect(StableAddress.isReserved(0xFDFF_FFFF_FFFF_FF80))
        #expect(!StableAddress.isReserved(0xFDFF_FFFF_FFFF_FF7F))
    }
}

struct InMemoryHostNetTests {
    @Test func appliesRemovesAndFailsOnRequest() throws {
        let net = InMemoryHostNet()
        let spec = DomainSpec(
            name: "corp", uplink: "eth0", addresses: [IPv6Address("2001:db8::5")!],
            routers: [IPv6Address("fe80::1")!], dnsServers: [IPv6Address("2001:db8::53")!],
            searchDomains: [try PvDWire.DomainName("corp.example.com")])
        try net.apply(spec)
        try net.apply(spec)
        #expect(net.changes == 1, "re-applying the same spec changes nothing")
        net.failNextApply = ["corp"]
        #expect(throws: SystemError.self) { try net.apply(spec) }
        #expect(try net.domains() == [spec])
        #expect(try net.removeLeftovers(keeping: []) == ["corp"])
        #expect(try net.domains().isEmpty)
    }

    @Test func resolvConfText() throws {
        let spec = DomainSpec(
            name: "corp", uplink: "eth0", addresses: [], routers: [],
            dnsServers: ["2001:db8::53", "2001:db8::54", "2001:db8::55", "2001:db8::56"].map { IPv6Address($0)! },
            searchDomains: [try PvDWire.DomainName("corp.example.com")])
        #expect(
            spec.resolvConf == """
                # Written by pvdd for domain corp; do not edit.
                nameserver 2001:db8::53
                nameserver 2001:db8::54
                nameserver 2001:db8::55
                search corp.example.com

                """)
    }

    @Test func peopleNameDomainsByUnambiguousPrefixes() throws {
        let names = ["corp.example.com", "corp.example.org", "eth0-fe80-0-1", "lab"]
        #expect(try DomainNaming.resolve("lab", among: names) == "lab")
        #expect(try DomainNaming.resolve("eth0", among: names) == "eth0-fe80-0-1")
        #expect(try DomainNaming.resolve("Corp.Example.COM", among: names) == "corp.example.com")
        #expect(try DomainNaming.resolve("corp.example.c", among: names) == "corp.example.com")
        #expect(throws: DomainLookupError.ambiguous("corp", ["corp.example.com", "corp.example.org"])) {
            try DomainNaming.resolve("corp", among: names)
        }
        #expect(throws: DomainLookupError.unknown("home")) { try DomainNaming.resolve("home", among: names) }
        #expect(throws: DomainLookupError.unknown("")) { try DomainNaming.resolve("", among: names) }
        // A name that is also the start of a longer one is that name.
        #expect(try DomainNaming.resolve("lab", among: ["lab", "lab2"]) == "lab")
    }

    @Test func aLongQueryIsNotSentBackWhole() {
        let query = String(repeating: "a", count: 100_000)
        #expect(throws: DomainLookupError.unknown(query)) { try DomainNaming.resolve(query, among: ["a"]) }
        let message = DomainLookupError.unknown(query).description
        #expect(message == "no domain is called \"\(String(repeating: "a", count: 32))…\" (100000 bytes) or starts with it")
        #expect(DomainLookupError.unknown("home").description == "no domain is called \"home\" or starts with it")
    }
}
