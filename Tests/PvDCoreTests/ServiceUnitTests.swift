import Testing

@testable import PvDCore

/// `pvd service`: which units it takes and the drop-ins it writes.
struct ServiceUnitTests {
    @Test func aServiceNameGetsItsSuffixAndTheDomainItsUnit() throws {
        let service = try ServiceUnit(unit: "backup", domain: "corp-vpn.example")
        #expect(service.unit == "backup.service")
        #expect(service.domainUnit == "pvd-domain@corp\\x2dvpn.example.service")
        #expect(try ServiceUnit(unit: "getty@tty1.service", domain: "corp").unit == "getty@tty1.service")
    }

    @Test func unitsSystemdWouldNotTakeOrPvdsOwnAreRefused() {
        #expect(throws: ServiceUnitError.notAService("backup.timer")) { try ServiceUnit(unit: "backup.timer", domain: "corp") }
        for bad in ["../x.service", "a b.service", "foo@.service", "-x.service", "x/y", String(repeating: "a", count: 250) + ".service"] {
            #expect(throws: ServiceUnitError.self) { try ServiceUnit(unit: bad, domain: "corp") }
        }
        #expect(throws: ServiceUnitError.pvdsOwn("pvdd.service")) { try ServiceUnit(unit: "pvdd", domain: "corp") }
        #expect(throws: ServiceUnitError.pvdsOwn("pvd-domain@corp.service")) { try ServiceUnit(unit: "pvd-domain@corp", domain: "corp") }
        #expect(throws: ServiceUnitError.self) { try ServiceUnit(unit: "backup", domain: "../etc") }
    }

    @Test func theDropInsBindTheServiceToTheDomainAndItsDNS() throws {
        let service = try ServiceUnit(unit: "backup", domain: "corp")
        let dropIn = service.serviceDropIn(namespace: "/run/netns/pvd-corp", namespaceFiles: "/etc/netns/pvd-corp")
        for line in [
            "BindsTo=pvd-domain@corp.service", "After=pvd-domain@corp.service", "NetworkNamespacePath=/run/netns/pvd-corp",
            "BindReadOnlyPaths=/etc/netns/pvd-corp/resolv.conf:/etc/resolv.conf",
            "BindReadOnlyPaths=/etc/netns/pvd-corp/nsswitch.conf:/etc/nsswitch.conf",
        ] {
            #expect(dropIn.split(separator: "\n").contains { $0 == line }, "\(line)")
        }
        #expect(service.domainDropIn.split(separator: "\n").contains("Wants=backup.service"))
        #expect(ServiceUnit.domain(inServiceDropIn: dropIn) == "corp")
        #expect(ServiceUnit.domain(inServiceDropIn: "[Service]\nExecStart=/bin/true\n") == nil)
    }
}
