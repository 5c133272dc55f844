import PvDWire
import Testing

@testable import PvDCore

struct DomainChoiceTests {
    func document(_ id: String, zones: [String] = [], claims: [String] = [], noInternet: Bool = false) throws -> PvDAdditionalInformation {
        PvDAdditionalInformation(
            identifier: try DomainName(id), expires: 0, prefixes: [], noInternet: noInternet,
            dnsZones: try zones.map { try DomainName($0) }, splitDnsClaims: try claims.map { try DomainName($0) })
    }

    func claims(_ name: String, _ document: PvDAdditionalInformation?, kind: DomainKind = .explicit) -> DomainChoice.Claims {
        .init(name: name, kind: kind, pvdID: document?.identifier, document: document)
    }

    func choose(_ text: String, _ domains: [DomainChoice.Claims]) throws -> DomainChoice {
        DomainChoice.choose(try DomainName(text), among: domains)
    }

    @Test func theLongestClaimWins() throws {
        let domains = [
            claims("corp", try document("corp.example.com", zones: ["corp.test"])),
            claims("lab", try document("lab.example.com", zones: ["lab.corp.test"])),
        ]
        #expect(try choose("www.corp.test", domains) == .claimed(domain: "corp", zone: try DomainName("corp.test")))
        #expect(try choose("printer.LAB.corp.test", domains) == .claimed(domain: "lab", zone: try DomainName("lab.corp.test")))
        #expect(try choose("corp.test", domains) == .claimed(domain: "corp", zone: try DomainName("corp.test")))
        #expect(try choose("xcorp.test", domains) == .unclaimed(internet: ["corp", "lab"]), "a label, not a suffix of one")
    }

    @Test func equalClaimsAreLeftToTheCaller() throws {
        let domains = [claims("b", try document("b.example.com", zones: ["shared.test"])), claims("a", try document("a.example.com", zones: ["shared.test"]))]
        #expect(try choose("x.shared.test", domains) == .several(domains: ["a", "b"], zone: try DomainName("shared.test")))
    }

    @Test func aSplitDNSClaimIsAcceptedUnderThePvDIDsParentOnly() throws {
        let corp = claims("corp", try document("corp.example.com", claims: ["example.com", "intranet.example.com", "bank.test", "com"]))
        #expect(corp.zones.map(\.description) == ["example.com", "intranet.example.com"])
        #expect(corp.unverifiedClaims.map(\.description) == ["bank.test", "com"])
        let short = claims("short", try document("example.net", claims: ["example.net", "www.example.net", "net"]))
        #expect(short.zones.map(\.description) == ["example.net", "www.example.net"], "a PvD ID under a TLD vouches for itself only")
        #expect(try choose("login.bank.test", [corp]) == .unclaimed(internet: ["corp"]))
    }

    @Test func aNoInternetDomainIsNeverChosenForAnUnclaimedName() throws {
        let domains = [
            claims("isolated", try document("isolated.example.com", zones: ["isolated.test"], noInternet: true)),
            claims("home", nil, kind: .implicit), claims("bare", nil, kind: .namespace),
        ]
        #expect(try choose("www.example.org", domains) == .unclaimed(internet: ["home"]))
        #expect(try choose("a.isolated.test", domains) == .claimed(domain: "isolated", zone: try DomainName("isolated.test")))
    }

    @Test func theChoiceSaysWhatItChoseAndWhy() throws {
        let name = try DomainName("www.example.org")
        let claimed = DomainChoice.claimed(domain: "corp", zone: try DomainName("example.org"))
        #expect(claimed.domain == "corp" && claimed.candidates == ["corp"] && claimed.explanation(for: name) == "corp claims example.org")
        let several = DomainChoice.several(domains: ["a", "b"], zone: try DomainName("example.org"))
        #expect(several.domain == nil && several.candidates == ["a", "b"] && several.explanation(for: name).hasSuffix("choose one"))
        #expect(DomainChoice.unclaimed(internet: ["home"]).domain == "home")
        #expect(DomainChoice.unclaimed(internet: ["a", "b"]).domain == nil)
        #expect(DomainChoice.unclaimed(internet: []).explanation(for: name) == "no domain claims www.example.org and every one says noInternet")
    }

    @Test func hostNamesComeOutOfURLs() throws {
        #expect(try DomainChoice.hostName(in: "https://user:pw@intranet.corp.test:8443/a?b#c").description == "intranet.corp.test")
        #expect(try DomainChoice.hostName(in: "www.corp.test").description == "www.corp.test")
        #expect(try DomainChoice.hostName(in: "www.corp.test:80").description == "www.corp.test")
        #expect(throws: PvDAwareCallError.self) { try DomainChoice.hostName(in: "http://[2001:db8::1]/") }
        #expect(throws: PvDAwareCallError.self) { try DomainChoice.hostName(in: "https:///path") }
    }

    @Test func proxiesBecomeTheConventionalEnvironment() throws {
        var document = try document("corp.example.com")
        #expect(ProxyEnvironment.variables(for: document).isEmpty)
        document.proxies = [
            .init(protocolName: "connect-udp", location: "https://proxy.corp.test/masque{?target_host,target_port}"),
            .init(protocolName: "http-connect", location: "proxy.corp.test:3128"),
            .init(protocolName: "pac", location: "https://corp.example.com/proxy.pac"),
        ]
        document.proxyMatch = [.init(domains: ["*.direct.corp.test", "bad, value"], proxies: []), .init(domains: ["*.corp.test"], proxies: ["p"])]
        let variables = Dictionary(uniqueKeysWithValues: ProxyEnvironment.variables(for: document))
        #expect(variables["http_proxy"] == "http://proxy.corp.test:3128")
        #expect(variables["HTTPS_PROXY"] == "http://proxy.corp.test:3128")
        #expect(variables["no_proxy"] == "localhost,127.0.0.1,::1,direct.corp.test", "a value with a comma or space is dropped")
        #expect(variables["PVD_PROXY_PAC"] == "https://corp.example.com/proxy.pac")
        document.proxies = [.init(protocolName: "http-connect", location: "evil\nLD_PRELOAD=/tmp/x")]
        #expect(ProxyEnvironment.variables(for: document).isEmpty, "a location with control characters is not used")
    }
}
