import PvDWire
import Testing

@testable import PvDCore

struct AdditionalInformationTableTests {
    let id = try! DomainName("corp.example.com")
    let prefix = IPv6Prefix("2001:db8:2::/64")!
    /// The random delay always at its maximum, to check the bounds.
    func most(_ upper: Seconds) -> Seconds { upper }

    func candidate(sequence: UInt16 = 1, delay: UInt8 = 3) -> AdditionalInformationTable.Candidate {
        .init(name: "corp", id: id, sequence: sequence, delay: delay, prefixes: [prefix])
    }

    func body(
        identifier: String = "corp.example.com", expires: String = "2030-01-01T00:00:00Z",
        prefixes: String = #"["2001:db8::/32"]"#
    ) -> [UInt8] {
        Array(#"{"identifier":"\#(identifier)","expires":"\#(expires)","prefixes":\#(prefixes),"extra":1}"#.utf8)
    }

    /// 2029-12-31T23:00:00Z: one hour before the sample document expires.
    let unixTime: Int64 = 1_893_452_400

    @Test func fetchWaitsTheRandomDelayThenKeepsAValidDocument() throws {
        var table = AdditionalInformationTable()
        let tracked = table.track([candidate(delay: 3)], at: 100, random: most)
        #expect(tracked == ["corp"])
        #expect(table.entries["corp"]?.nextFetch == 100 + 0.064, "2^(2·3) ms")
        #expect(table.due(at: 100.06).isEmpty)
        #expect(table.due(at: 100.064) == ["corp"])
        table.started("corp", at: 100.064)
        #expect(table.due(at: 200).isEmpty, "one fetch at a time")
        let kept = table.finished("corp", .answer(status: 200, body: body()), at: 101, unixTime: unixTime, random: { _ in 0 })
        #expect(kept)
        let entry = try #require(table.entries["corp"])
        #expect(entry.status == "valid")
        #expect(entry.document?.identifier == id)
        #expect(entry.documentExpiresAt == Seconds(3701))
        #expect(entry.nextFetch == 101 + 3600 * 0.9, "refreshed before it expires")
        #expect(table.nextEvent() == 101 + 3600 * 0.9)
        let expired = table.expire(at: 3701)
        #expect(expired == ["corp"])
        #expect(table.entries["corp"]?.document == nil)
        #expect(table.entries["corp"]?.status == "expired")
    }

    @Test(arguments: [
        (200, "identifier", "invalid document: "),
        (200, "prefixes", "invalid document: "),
        (200, "expired", "invalid document: "),
        (200, "garbage", "invalid document: "),
        (404, "", "HTTP 404"),
        (301, "", "unexpected HTTP 301"),
    ])
    func badAnswersEndTheAttemptsUntilTheSequenceChanges(status: Int, problem: String, expected: String) throws {
        var table = AdditionalInformationTable()
        _ = table.track([candidate()], at: 0, random: most)
        table.started("corp", at: 1)
        let answer: [UInt8] =
            switch problem {
            case "identifier": body(identifier: "other.example.com")
            case "prefixes": body(prefixes: #"["2001:db8:3::/48"]"#)
            case "expired": body(expires: "2020-01-01T00:00:00Z")
            case "garbage": Array("<html>".utf8)
            default: []
            }
        table.finished("corp", .answer(status: status, body: answer), at: 2, unixTime: unixTime, random: most)
        let entry = try #require(table.entries["corp"])
        #expect(entry.status.hasPrefix(expected), "\(entry.status)")
        #expect(entry.document == nil)
        #expect(entry.nextFetch == nil)
        #expect(table.nextEvent() == nil)
        // A new sequence number starts over, but not within 10 s of the last attempt.
        let result = table.track([candidate(sequence: 2)], at: 3, random: most)
        #expect(result == ["corp"])
        #expect(table.entries["corp"]?.nextFetch == 11)
        #expect(table.entries["corp"]?.status == "waiting")
    }

    @Test func failuresAreRetriedWithBackoffThenGivenUp() throws {
        var table = AdditionalInformationTable()
        _ = table.track([candidate()], at: 0, random: most)
        var now: Seconds = 1
        for (attempt, wait) in [(1, 10.0), (2, 20.0)] {
            table.started("corp", at: now)
            table.finished("corp", .failure("TLS: certificate not valid"), at: now, unixTime: unixTime, random: most)
            #expect(table.entries["corp"]?.nextFetch == now + wait, "attempt \(attempt)")
            now += wait
        }
        table.started("corp", at: now)
        table.finished("corp", .failure("TLS: certificate not valid"), at: now, unixTime: unixTime, random: most)
        #expect(table.entries["corp"]?.nextFetch == nil)
        #expect(table.entries["corp"]?.status == "TLS: certificate not valid; gave up after 3 attempts")
    }

    @Test func aRefreshFailureKeepsTheDocumentUntilItExpires() throws {
        var table = AdditionalInformationTable()
        _ = table.track([candidate()], at: 0, random: most)
        table.started("corp", at: 1)
        table.finished("corp", .answer(status: 200, body: body()), at: 1, unixTime: unixTime, random: most)
        table.started("corp", at: 3000)
        table.finished("corp", .failure("timeout"), at: 3000, unixTime: unixTime + 2999, random: most)
        #expect(table.entries["corp"]?.document != nil)
        #expect(table.entries["corp"]?.nextFetch == 3010)
    }

    @Test(arguments: ["a/b.example.com", "user@corp.example.com", "-x.example.com", "a b.example"])
    func pvdIDsThatAreNotHostNamesAreNotFetched(_ text: String) throws {
        var table = AdditionalInformationTable()
        let odd = AdditionalInformationTable.Candidate(name: "odd", id: try DomainName(text), sequence: 1, delay: 0, prefixes: [])
        _ = table.track([odd], at: 0, random: most)
        #expect(table.entries["odd"]?.nextFetch == nil)
        #expect(table.entries["odd"]?.status == "the PvD ID is not a host name; not fetched")
        #expect(AdditionalInformationTable.isHostName(try DomainName("Corp-1.Example.com")))
    }

    @Test func aSequenceChangeWhileFetchingDropsTheOutcome() {
        var table = AdditionalInformationTable()
        _ = table.track([candidate()], at: 0, random: most)
        table.started("corp", at: 1)
        _ = table.track([candidate(sequence: 2)], at: 2, random: most)
        let result = table.finished("corp", .answer(status: 200, body: body()), at: 3, unixTime: unixTime, random: most)
        #expect(!result)
        #expect(table.entries["corp"]?.document == nil)
        #expect(table.entries["corp"]?.nextFetch == 11)
        _ = table.track([], at: 4, random: most)
        #expect(table.entries.isEmpty)
    }

    @Test func candidatesAreExplicitPvDsWithHAndAnAddress() throws {
        var table = DomainTable(secret: [1])
        var ra = RA.pvd("corp.example.com", sequence: 5, RA.options(prefix: "2001:db8:2::/64"))
        if case .provisioningDomain(var pvd) = ra.options[0] {
            pvd.http = true
            pvd.delay = 2
            ra.options[0] = .provisioningDomain(pvd)
        }
        _ = table.observe(ra, from: RA.router(2), on: "eth0", at: 0)
        _ = table.observe(RA.pvd("noh.example.com", RA.options(prefix: "2001:db8:3::/64")), from: RA.router(3), on: "eth0", at: 0)
        _ = table.observe(RA.plain(RA.options(prefix: "2001:db8:1::/64")), from: RA.router(1), on: "eth0", at: 0)
        let candidates = table.additionalInformationCandidates(at: 0)
        #expect(candidates.map(\.name) == ["corp.example.com"])
        #expect(candidates.first?.sequence == 5)
        #expect(candidates.first?.delay == 2)
        #expect(candidates.first?.prefixes == [prefix])
    }
}
