import PvDWire
import Testing

@testable import PvDCore

/// Duplicate address detection in the table: addresses are probed before a
/// domain uses them, and a conflict moves the domain to its next address.
struct AddressProbeTests {
    let secret: [UInt8] = [7, 7, 7]
    let prefix = RA.prefix("2001:db8:1::/64")
    let name = "eth0-fe80-0-1"

    func address(attempt: Int) -> IPv6Address {
        StableAddress.address(in: prefix, domain: name, secret: secret, attempt: attempt)
    }

    func learn(_ table: inout DomainTable, at now: Seconds) -> Set<String> {
        table.observe(RA.plain(RA.options(prefix: "2001:db8:1::/64")), from: RA.router(1), on: "eth0", at: now)
    }

    @Test func addressIsUsedOnlyAfterItsProbeTime() throws {
        var table = DomainTable(secret: secret, addressProbeTime: 1)
        let learnt = learn(&table, at: 0)
        #expect(learnt == [name])
        #expect(table.specs(at: 0).first?.addresses == [], "the domain exists, without its tentative address")
        let probes = table.takeProbes()
        let again = table.takeProbes()
        #expect(probes == ["eth0": [address(attempt: 0)]])
        #expect(again.isEmpty, "each address is probed once")
        #expect(table.nextExpiry() == 1)
        let early = table.expire(at: 0.5)
        let done = table.expire(at: 1)
        #expect(early.isEmpty)
        #expect(done == [name])
        #expect(table.specs(at: 1).first?.addresses == [address(attempt: 0)])
        _ = learn(&table, at: 2)
        let later = table.takeProbes()
        #expect(later.isEmpty, "a verified address is not probed again")
    }

    @Test func conflictMovesToTheNextAddressAndGivesUpAfterThree() throws {
        var table = DomainTable(secret: secret, addressProbeTime: 1)
        _ = learn(&table, at: 0)
        _ = table.takeProbes()
        let elsewhere = table.addressInUse(address(attempt: 0), on: "eth1", at: 0.2)
        #expect(elsewhere == nil, "an answer on another link is not a conflict")
        let first = table.addressInUse(address(attempt: 0), on: "eth0", at: 0.2)
        #expect(first == AddressConflict(domain: name, address: address(attempt: 0), prefix: prefix, conflicts: 1))
        #expect(first?.gaveUp == false)
        let probes = table.takeProbes()
        #expect(probes == ["eth0": [address(attempt: 1)]])
        let repeated = table.addressInUse(address(attempt: 0), on: "eth0", at: 0.3)
        #expect(repeated == nil, "a second answer for the same address is not news")
        _ = table.expire(at: 1.2)
        #expect(table.specs(at: 1.2).first?.addresses == [address(attempt: 1)])

        var unlucky = DomainTable(secret: secret, addressProbeTime: 1)
        _ = learn(&unlucky, at: 0)
        for attempt in 0..<DomainTable.maximumAddressConflicts {
            let conflict = unlucky.addressInUse(address(attempt: attempt), on: "eth0", at: 0.1)
            #expect(conflict?.gaveUp == (attempt == DomainTable.maximumAddressConflicts - 1))
        }
        _ = unlucky.expire(at: 5)
        #expect(unlucky.specs(at: 5).first?.addresses == [], "no address in a prefix where every try was taken")
        #expect(unlucky.nextExpiry() != 1.1, "nothing left to probe")
    }

    @Test func verifiedAddressesAndConflictsSurviveARestart() throws {
        var table = DomainTable(secret: secret, addressProbeTime: 1)
        _ = learn(&table, at: 0)
        _ = table.addressInUse(address(attempt: 0), on: "eth0", at: 0.1)
        _ = table.expire(at: 1.5)
        let restored = try DomainTable(
            state: try JSONValue.parse(Array(table.state.serialized.utf8)), secret: secret,
            addressProbeTime: 1)
        #expect(restored.specs(at: 2).first?.addresses == [address(attempt: 1)], "no new probe for an address in use")
    }

    @Test func stateFromBeforeProbingKeepsItsAddresses() throws {
        var table = DomainTable(secret: secret)
        _ = learn(&table, at: 0)
        guard case .object(let top) = table.state, case .array(let domains) = top.first(where: { $0.key == "domains" })?.value,
            case .object(let members) = domains.first
        else {
            Issue.record("unexpected state shape")
            return
        }
        let old = JSONValue.object([
            JSONMember("version", .integer(DomainTable.stateVersion)),
            JSONMember(
                "domains",
                .array([
                    .object(
                        members.filter {
                            $0.key != "verified_addresses" && $0.key != "address_conflicts"
                        })
                ])),
        ])
        var restored = try DomainTable(state: old, secret: secret, addressProbeTime: 1)
        #expect(restored.specs(at: 1).first?.addresses == [address(attempt: 0)])
        _ = restored.expire(at: 1)
        let probes = restored.takeProbes()
        #expect(probes.isEmpty)
    }

    @Test func badVerifiedAddressDropsItsDomainWithThePath() throws {
        var table = DomainTable(secret: secret)
        _ = learn(&table, at: 0)
        let text = table.state.serialized.replacing("\"verified_addresses\":[]", with: "\"verified_addresses\":[\"nope\"]")
        var reasons: [StateError] = []
        let restored = try DomainTable(state: try JSONValue.parse(Array(text.utf8)), secret: secret) { reasons.append($0) }
        #expect(reasons == [StateError("domains[0].verified_addresses[0]: not an IPv6 address")])
        #expect(restored.domains.isEmpty)
    }
}
