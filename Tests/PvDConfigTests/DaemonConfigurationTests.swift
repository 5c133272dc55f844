import Glibc
import PvDConfig
import PvDCore
import PvDWire
import Testing

/// Reads a small text file (tests only).
enum HostFile {
    static func read(_ path: String) -> String? {
        guard let file = fopen(path, "r") else { return nil }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while case let count = fread(&buffer, 1, buffer.count, file), count > 0 { bytes += buffer.prefix(count) }
        return String(decoding: bytes, as: UTF8.self)
    }
}

@Suite struct DaemonConfigurationTests {
    @Test func emptyFileKeepsDefaults() throws {
        #expect(try DaemonConfiguration(yaml: "") == DaemonConfiguration())
        #expect(try DaemonConfiguration(yaml: "# nothing\n") == DaemonConfiguration())
    }

    @Test func theShippedExampleIsValid() throws {
        let path = "\(#filePath)".split(separator: "/").dropLast(3).joined(separator: "/")
        let text = try #require(HostFile.read("/\(path)/scripts/system/pvdd.yaml"))
        let configuration = try DaemonConfiguration(yaml: text)
        #expect(configuration.aliases == ["corp": try DomainName("corp.example.com")])
        #expect(configuration.uplinks.isEmpty)
        #expect(configuration.duplicateAddressDetection)
        #expect(configuration.forwarding == .automatic)
    }

    @Test func everyKey() throws {
        let configuration = try DaemonConfiguration(
            yaml: """
                uplinks: [eth0, wlan0]
                grace-period: 2.5
                duplicate-address-detection: false
                ipv6-forwarding: global
                state: /var/lib/pvd/state.json
                aliases:
                  corp: Corp.Example.COM
                  lab: lab.example.org.
                attachment:
                  eth0: macvlan
                access:
                  corp: {users: [alice], groups: [staff]}
                  "*": {groups: [netdev]}
                additional-information:
                  fetch: false
                  ca-file: /etc/pvd/lab-ca.pem
                """)
        #expect(configuration.access == ["corp": DomainAccess(users: ["alice"], groups: ["staff"]), "*": DomainAccess(groups: ["netdev"])])
        #expect(configuration.allows(user: "alice", uid: 1000, groups: ["users"], domain: "corp"))
        #expect(configuration.allows(user: "bob", uid: 1001, groups: ["staff"], domain: "corp"))
        #expect(configuration.allows(user: "carol", uid: 1002, groups: ["netdev"], domain: "lab"), "the * entry covers every domain")
        #expect(!configuration.allows(user: "alice", uid: 1000, groups: ["users"], domain: "lab"))
        #expect(configuration.allows(user: "root", uid: 0, groups: [], domain: "lab"), "root may use any domain")
        #expect(configuration.uplinks == ["eth0", "wlan0"])
        #expect(configuration.gracePeriod == 2.5)
        #expect(!configuration.duplicateAddressDetection)
        #expect(configuration.forwarding == .global)
        #expect(configuration.statePath == "/var/lib/pvd/state.json")
        #expect(configuration.aliases == ["corp": try DomainName("corp.example.com"), "lab": try DomainName("lab.example.org")])
        #expect(configuration.attachments == ["eth0": .macvlan])
        #expect(!configuration.fetchAdditionalInformation)
        #expect(configuration.certificateAuthorityFile == "/etc/pvd/lab-ca.pem")
    }

    @Test(arguments: [
        ("uplinks: eth0", "uplinks: must be a list"),
        ("uplinks: [eth0, 'a/b']", "uplinks: \"a/b\" is not an interface name"),
        ("uplinks: [averyveryverylongname]", "uplinks: \"averyveryverylongname\" is not an interface name"),
        ("grace-period: -1", "grace-period: must be between 0 and one year of seconds"),
        ("grace-period: soon", "grace-period: must be a number"),
        ("duplicate-address-detection: 1", "duplicate-address-detection: must be true or false"),
        ("access: {corp: {users: alice}}", "access.corp.users: must be a list"),
        ("access: {corp: {uids: [1]}}", "access.corp.uids: unknown key; known: groups, users"),
        ("access: {'../x': {users: [a]}}", "access.../x: \"../x\" is not a domain name: use a-z, 0-9, '.', '-', '_', not starting with '.' or '-'"),
        ("state: run/state.json", "state: must be an absolute file path"),
        ("aliases: [corp]", "aliases: must be a mapping"),
        ("aliases:\n  ../x: corp.example.com", "aliases.../x: \"../x\" is not a domain name: use a-z, 0-9, '.', '-', '_', not starting with '.' or '-'"),
        ("aliases:\n  corp: bad..name", "aliases.corp: \"bad..name\" is not a PvD ID: empty label"),
        ("aliases:\n  corp: a.example\n  other: A.example", "aliases.other: A.example already has an alias"),
        ("attachment:\n  eth0: bridge", "attachment.eth0: is \"bridge\"; use routed or macvlan"),
        ("additional-information:\n  ca-file: lab.pem", "additional-information.ca-file: must be an absolute path"),
        ("additional-information:\n  cafile: /x", "additional-information.cafile: unknown key; known: ca-file, fetch"),
        ("ipv6-forwarding: everywhere", "ipv6-forwarding: is auto (per interface where the kernel can) or global, not everywhere"),
        (
            "uplink: [eth0]",
            "uplink: unknown key; known: access, additional-information, aliases, attachment, domains, duplicate-address-detection, grace-period, ipv6-forwarding, namespaces, ports, state, uplinks, vpns"
        ),
        ("- eth0", "must be a mapping"),
    ])
    func badInputIsNamed(_ text: String, _ message: String) {
        #expect(throws: ConfigurationError.self) { try DaemonConfiguration(yaml: text) }
        do {
            _ = try DaemonConfiguration(yaml: text)
        } catch {
            #expect(error.description == message)
        }
    }

    @Test(arguments: ["uplinks: [eth0\nstate: /x\n", "state: /x\nstate: /y\n"])
    func yamlErrorsSayWhere(_ text: String) {
        do {
            _ = try DaemonConfiguration(yaml: text)
            Issue.record("accepted broken YAML")
        } catch {
            #expect(error.description.hasPrefix("not valid YAML: "))
            #expect(error.description.contains("line"))
        }
    }
}
