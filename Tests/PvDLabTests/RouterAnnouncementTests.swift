import PvDCore
import PvDWire
import Testing

@testable import PvDLab

/// What `pvd announce` sends, without a network.
struct RouterAnnouncementTests {
    func pvd(_ id: String, prefixes: Int) throws -> RouterAnnouncement.PvD {
        var pvd = RouterAnnouncement.PvD(id: try DomainName(id))
        pvd.sequence = 9
        pvd.options.prefixes = (0..<prefixes).map { IPv6Prefix("2001:db8:\(String($0, radix: 16))::/64")! }
        return pvd
    }

    @Test func eachPvDHasAnRAOfItsOwnWithTheOptionsForEveryHost() throws {
        var announcement = RouterAnnouncement()
        announcement.outside.prefixes = [IPv6Prefix("2001:db8:1::/64")!]
        announcement.pvds = [try pvd("corp.example.com", prefixes: 1), try pvd("lab.example.com", prefixes: 1)]
        let ras = try announcement.advertisements()
        #expect(ras.count == 2)
        for (ra, id) in zip(ras, ["corp.example.com", "lab.example.com"]) {
            #expect(ra.options.contains(.prefixInformation(PrefixInformation(prefix: IPv6Prefix("2001:db8:1::/64")!))))
            guard case .provisioningDomain(let option)? = ra.options.last else {
                Issue.record("no PvD option")
                continue
            }
            #expect(option.id.description == id && option.sequence == 9)
        }
    }

    @Test func anRALargerThanTheLinkIsSplitWithThePvDHeaderInEveryPart() throws {
        var announcement = RouterAnnouncement()
        announcement.pvds = [try pvd("corp.example.com", prefixes: 60)]
        let ras = try announcement.advertisements(linkMTU: 1280, linkLayerAddress: [2, 0, 0, 0, 0, 1])
        #expect(ras.count > 1)
        var prefixes = 0
        for (index, ra) in ras.enumerated() {
            #expect(try ra.encoded().count <= 1280 - 40, "part \(index) fits the link")
            guard case .provisioningDomain(let option)? = ra.options.last else {
                Issue.record("part \(index) has no PvD option")
                continue
            }
            #expect(option.id.description == "corp.example.com" && option.sequence == 9, "the same header in every part")
            prefixes += option.options.count
            #expect(ra.options.contains { if case .sourceLinkLayerAddress = $0 { true } else { false } } == (index == 0))
        }
        #expect(prefixes == 60, "every nested option in one part or another")
        #expect(try RouterAnnouncement.init(json: .null).advertisements().count == 1, "nothing announced: one plain RA")
    }

    @Test func theConfigurationReadsAndNamesTheKeyAtFault() throws {
        let json = try JSONValue.parse(
            Array(
                #"{"router-lifetime": 600, "outside": {"prefixes": ["2001:db8:1::/64"]}, "pvds": [{"id": "corp.example.com", "h": true, "sequence": 3, "rdnss": ["2001:db8:2::53"]}]}"#
                    .utf8))
        let announcement = try RouterAnnouncement(json: json)
        #expect(announcement.routerLifetime == 600 && announcement.pvds.count == 1 && announcement.pvds[0].http && announcement.pvds[0].sequence == 3)
        #expect(announcement.pvds[0].options.dnsServers == [IPv6Address("2001:db8:2::53")!])
        for (text, problem) in [
            (#"{"pvds": [{"sequence": 1}]}"#, "pvds[0]: a PvD needs its id"),
            (#"{"pvds": [{"id": "corp", "delay": 16}]}"#, "pvds[0].delay: 0 to 15"),
            (#"{"outside": {"prefixes": ["nope"]}}"#, "outside.prefixes: \"nope\" is not an IPv6 prefix"),
            (#"{"tunnels": []}"#, "tunnels: unknown key"),
        ] {
            do {
                _ = try RouterAnnouncement(json: try JSONValue.parse(Array(text.utf8)))
                Issue.record("accepted: \(text)")
            } catch {
                #expect("\(error)".hasPrefix(problem), "\(error)")
            }
        }
    }

    @Test func informationSetsTheHFlagAndEachServerNeedsAnAddressOfItsOwn() throws {
        let one = try JSONValue.parse(
            Array(
                #"{"pvds": [{"id": "corp.example.com", "info": {"file": "i.json", "certificate": "c.pem", "key": "k.pem", "address": "2001:db8::80"}}]}"#.utf8))
        let announcement = try RouterAnnouncement(json: one)
        #expect(announcement.pvds[0].http, "info implies the H flag")
        #expect(announcement.pvds[0].information == .init(file: "i.json", certificate: "c.pem", key: "k.pem", address: IPv6Address("2001:db8::80")))
        for (text, problem) in [
            (#"{"pvds": [{"id": "a.example", "info": {"file": "i.json", "key": "k.pem"}}]}"#, "pvds[0].info: needs file, certificate and key"),
            (#"{"pvds": [{"id": "a.example", "info": {"file": "i", "certificate": "c", "key": "k", "address": "x"}}]}"#, "pvds[0].info.address"),
            (
                #"{"pvds": [{"id": "a.example", "info": {"file": "i", "certificate": "c", "key": "k"}}, {"id": "b.example", "info": {"file": "i", "certificate": "c", "key": "k"}}]}"#,
                "pvds: each PvD's info needs an address of its own"
            ),
        ] {
            do {
                _ = try RouterAnnouncement(json: try JSONValue.parse(Array(text.utf8)))
                Issue.record("accepted: \(text)")
            } catch {
                #expect("\(error)".hasPrefix(problem), "\(error)")
            }
        }
    }
}
