import BusWire
import PvDWire
import Testing

@testable import pvd_cli

/// What the command line prints, without a daemon.
struct OutputTests {
    @Test func aPvDRAReadsAsOneLinePerOptionWithThePvDsOwnIndented() throws {
        let pvd = PvDOption(
            id: try DomainName("corp.example.com"), http: true, delay: 2, sequence: 7,
            options: [
                .prefixInformation(PrefixInformation(prefix: IPv6Prefix("2001:db8:2::/64")!)),
                .recursiveDNSServers(RecursiveDNSServers(lifetime: .max, servers: [IPv6Address("2001:db8:2::53")!])),
            ])
        let ra = RouterAdvertisement(header: RouterAdvertisementHeader(flags: 0x40, routerLifetime: 0), options: [.mtu(1400), .provisioningDomain(pvd)])
        let lines = RATextFormatter.text(ra, nil, []).split(separator: "\n").map(String.init)
        #expect(lines[0] == "router advertisement")
        #expect(lines[1] == "  hop limit 64, flags O, preference medium, router lifetime 0 s, reachable 0 ms, retrans 0 ms")
        #expect(lines[2] == "  mtu 1400")
        #expect(lines[3] == "  pvd corp.example.com sequence 7, flags H, delay 2")
        #expect(lines.contains("    prefix 2001:db8:2::/64 on-link autonomous, valid 86400 s, preferred 14400 s"))
        #expect(lines.contains("    rdnss 2001:db8:2::53, lifetime infinite"))
    }

    @Test func propertyValuesForPeople() {
        #expect(text(.strings([])) == "-")
        #expect(text(.strings(["2001:db8::1", "2001:db8::2"])) == "2001:db8::1, 2001:db8::2")
        #expect(text(.uint64(.max)) == "forever")
        #expect(text(.string("")) == "-")
        #expect(text(.array(elementSignature: "{sb}", [.dictEntry(.string("H"), .boolean(true))])) == "H=true")
    }
}

struct DesktopEntryTests {
    @Test func aLauncherRunsItsApplicationInsideTheDomain() {
        let firefox = """
            [Desktop Entry]
            Name=Firefox ESR
            Name[de]=Firefox ESR
            Exec=/usr/lib/firefox-esr/firefox-esr %u
            TryExec=firefox-esr
            DBusActivatable=true
            Icon=firefox-esr

            [Desktop Action new-window]
            Name=New Window
            Exec=/usr/lib/firefox-esr/firefox-esr --new-window %u

            """
        let entry = DesktopEntry.inDomain(firefox, domain: "corp", pvd: "/usr/bin/pvd")
        #expect(entry.contains("Name=Firefox ESR (corp)\nName[de]=Firefox ESR (corp)\n"))
        #expect(entry.contains("Exec=/usr/bin/pvd exec corp -- /usr/lib/firefox-esr/firefox-esr %u\n"))
        #expect(entry.contains("Exec=/usr/bin/pvd exec corp -- /usr/lib/firefox-esr/firefox-esr --new-window %u\n"))
        #expect(!entry.contains("TryExec") && !entry.contains("DBusActivatable"), "both would start it outside")
        #expect(entry.hasPrefix("[Desktop Entry]\nX-Pvd-Domain=corp\n"))
        #expect(entry.contains("Name=New Window (corp)"))
    }

    @Test func applyDiffShowsWholeEntriesRemovedAndAdded() {
        let old = "# Declared state\ndomains:\n  - name: \"lab\"\n    uplink: \"eth0\"\n  - name: \"keep\"\n    uplink: \"eth0\"\nnamespaces: [\"ns1\"]\n"
        let new = "# Declared state\ndomains:\n  - name: \"keep\"\n    uplink: \"eth0\"\n  - name: \"lab2\"\n    uplink: \"eth0\"\nnamespaces: []\n"
        #expect(
            Apply.difference(from: old, to: new) == [
                "-   - name: \"lab\"", "-     uplink: \"eth0\"", "- namespaces: [\"ns1\"]",
                "+   - name: \"lab2\"", "+     uplink: \"eth0\"", "+ namespaces: []",
            ])
        #expect(Apply.difference(from: old, to: old).isEmpty)
    }
}
