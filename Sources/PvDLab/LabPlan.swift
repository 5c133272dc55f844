import PvDCore
import PvDWire

/// What `pvd lab up` makes, in order: directories and files, then commands
/// (each must succeed), then long-running programs, each in a namespace of
/// the lab. Commands and programs name their executable without a path.
public struct LabPlan: Equatable, Sendable {
    public struct File: Equatable, Sendable {
        public var path: String
        public var contents: String
        public var mode: UInt32
    }

    public struct Program: Equatable, Sendable {
        public var namespace: String
        /// Its log is `<lab>/logs/<name>.log`.
        public var name: String
        public var arguments: [String]
        public var environment: [String: String] = [:]
        /// What its log says once it serves; nil: started is enough.
        public var ready: String?
    }

    public var directories: [String] = []
    public var files: [File] = []
    public var commands: [[String]] = []
    public var programs: [Program] = []
}

/// The programs of pvd's own that a lab runs.
public struct LabTools: Equatable, Sendable {
    /// The command line (`pvd announce` runs from it).
    public var pvd: String
    public var pvdd: String

    public init(pvd: String, pvdd: String) { (self.pvd, self.pvdd) = (pvd, pvdd) }
}

extension LabTopology {
    /// The private system bus of a host that runs pvdd; `pvd` reaches that pvdd through it.
    public func busAddress(of host: String) -> String { "unix:path=\(directory)/\(host)/bus.socket" }

    /// The OpenVPN client configuration of VPN `name` (what the host's pvdd runs).
    public func vpnClientConfiguration(_ name: String) -> String { "\(directory)/vpn-\(name).conf" }

    /// The namespaces, links, addresses, routes, files and programs of the
    /// lab. `now`: seconds since 1970, for the additional information's expiry.
    public func plan(now: Int64, tools: LabTools) -> LabPlan {
        var plan = LabPlan()
        let bridges = namespace(LabTopology.switchNode)
        let up = namespace(LabTopology.upstreamNode)
        let informed = routers.flatMap { router in router.announcement.pvds.compactMap { pvd in pvd.information.map { (router, pvd, $0) } } }
        plan.directories =
            [directory, "\(directory)/logs"] + (informed.isEmpty ? [] : ["\(directory)/info"]) + hosts.filter(\.runsPvdd).map { "\(directory)/\($0.name)" }

        // Namespaces: no DAD delay anywhere, routers forward.
        for name in namespaces {
            plan.commands.append(["ip", "netns", "add", name])
            plan.commands.append(["ip", "-n", name, "link", "set", "lo", "up"])
            plan.commands.append(["ip", "netns", "exec", name, "sysctl", "-qw", "net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0"])
        }
        for router in routers { plan.commands.append(["ip", "netns", "exec", namespace(router.name), "sysctl", "-qw", "net.ipv6.conf.all.forwarding=1"]) }

        // Links: a bridge each in the switch namespace, a port per node.
        for link in links {
            plan.commands.append(["ip", "-n", bridges, "link", "add", link, "type", "bridge"])
            plan.commands.append(["ip", "-n", bridges, "link", "set", link, "up"])
        }
        let attached = routers.map { ($0.name, $0.link) } + hosts.map { ($0.name, $0.link) }
        for (index, (node, link)) in attached.enumerated() {
            let port = "p\(index)"
            plan.commands.append(["ip", "-n", namespace(node), "link", "add", link, "type", "veth", "peer", "name", port, "netns", bridges])
            plan.commands.append(["ip", "-n", bridges, "link", "set", port, "master", link, "up"])
            plan.commands.append(["ip", "-n", namespace(node), "link", "set", link, "up"])
        }

        // Routers: their addresses, the upstream behind each (link-local next hops both ways).
        for address in upstream { plan.commands.append(["ip", "-n", up, "addr", "add", "\(address)/128", "dev", "lo"]) }
        for router in routers {
            let here = namespace(router.name)
            plan.commands.append(["ip", "-n", here, "addr", "add", "\(router.address)/\(router.prefix.length)", "dev", router.link, "nodad"])
            for address in router.extraAddresses { plan.commands.append(["ip", "-n", here, "addr", "add", "\(address)/128", "dev", router.link, "nodad"]) }
            for prefix in router.prefixes where prefix != router.prefix {
                plan.commands.append(["ip", "-n", here, "-6", "route", "add", "\(prefix)", "dev", router.link])
            }
            plan.commands.append(["ip", "-n", here, "link", "add", "upstream", "type", "veth", "peer", "name", router.name, "netns", up])
            plan.commands.append(["ip", "-n", here, "addr", "add", "fe80::1/64", "dev", "upstream", "nodad"])
            plan.commands.append(["ip", "-n", up, "addr", "add", "fe80::2/64", "dev", router.name, "nodad"])
            plan.commands.append(["ip", "-n", here, "link", "set", "upstream", "up"])
            plan.commands.append(["ip", "-n", up, "link", "set", router.name, "up"])
            plan.commands.append(["ip", "-n", here, "-6", "route", "add", "default", "via", "fe80::2", "dev", "upstream"])
            for prefix in router.prefixes { plan.commands.append(["ip", "-n", up, "-6", "route", "add", "\(prefix)", "via", "fe80::1", "dev", router.name]) }
        }

        // Additional information: a CA for the lab, a certificate and a document per PvD.
        if !informed.isEmpty {
            plan.commands.append(
                [
                    "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "\(directory)/ca.key",
                    "-out", "\(directory)/ca.crt", "-days", "30", "-subj", "/CN=pvd lab \(name)",
                ])
        }
        for (index, (router, pvd, server)) in informed.enumerated() {
            let added = router.documents[pvd.id.description] ?? []
            let document = JSONValue.object(
                [
                    JSONMember("identifier", .string(pvd.id.description)),
                    JSONMember("expires", .string(RFC3339.format(now + 30 * 86400))),
                    JSONMember("prefixes", .array(pvd.options.prefixes.map { .string($0.description) })),
                ] + (added.contains { $0.key == "noInternet" } ? [] : [JSONMember("noInternet", .bool(false))]) + added)
            plan.files.append(LabPlan.File(path: server.file, contents: document.serialized + "\n", mode: 0o644))
            let extensions = "\(directory)/info/\(router.name)-\(pvd.id).ext"
            plan.files.append(
                LabPlan.File(path: extensions, contents: "subjectAltName=DNS:\(pvd.id)\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n", mode: 0o644))
            let request = "\(directory)/info/\(router.name)-\(pvd.id).csr"
            plan.commands.append(
                [
                    "openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", server.key, "-out", request,
                    "-subj", "/CN=\(pvd.id)",
                ])
            plan.commands.append(
                [
                    "openssl", "x509", "-req", "-in", request, "-CA", "\(directory)/ca.crt", "-CAkey", "\(directory)/ca.key", "-set_serial", "\(index + 1)",
                    "-days", "30", "-extfile", extensions, "-out", server.certificate,
                ])
        }

        // OpenVPN servers upstream: a static key each, a DNS server inside the tunnel.
        for (index, vpn) in vpns.enumerated() {
            let key = "\(directory)/vpn-\(vpn.name).key"
            let (server, client) = ("10.8.\(index).1", "10.8.\(index).2")
            plan.commands.append(["ip", "-n", up, "addr", "add", "\(vpn.server)/128", "dev", "lo"])
            plan.commands.append(["openvpn", "--genkey", "secret", key])
            var lines = [
                "remote \(vpn.server) 1194", "proto udp6", "dev tun", "ifconfig \(client) \(server)", "secret \(key)", "cipher AES-256-CBC",
                "dhcp-option DNS \(server)",
            ]
            if let search = vpn.search { lines.append("dhcp-option DOMAIN \(search)") }
            plan.files.append(LabPlan.File(path: vpnClientConfiguration(vpn.name), contents: (lines + ["verb 3"]).joined(separator: "\n") + "\n", mode: 0o600))
            plan.programs.append(
                LabPlan.Program(
                    namespace: up, name: "vpn-\(vpn.name)",
                    arguments: [
                        "openvpn", "--dev", "tun", "--ifconfig", server, client, "--secret", key, "--cipher", "AES-256-CBC", "--proto", "udp6",
                        "--local", "\(vpn.server)", "--lport", "1194", "--verb", "3",
                    ]))
            plan.programs.append(
                LabPlan.Program(namespace: up, name: "vpn-\(vpn.name)-dns", arguments: dnsmasq(listen: server, hosts: vpn.hosts, dynamic: true)))
        }

        // Router programs: the DNS server, then the RAs (with any information server).
        for router in routers {
            if let dns = router.dns {
                let informationRecords = router.announcement.pvds.compactMap { pvd in
                    pvd.information.map { (pvd.id, $0.address?.description ?? "\(router.address)") }
                }
                plan.programs.append(
                    LabPlan.Program(
                        namespace: namespace(router.name), name: "\(router.name)-dns",
                        arguments: dnsmasq(listen: dns.address, hosts: dns.hosts + informationRecords, dynamic: false),
                        ready: "started"))
            }
            let configuration = "\(directory)/announce-\(router.name).json"
            plan.files.append(LabPlan.File(path: configuration, contents: router.announcementJSON.serialized + "\n", mode: 0o644))
            plan.programs.append(
                LabPlan.Program(
                    namespace: namespace(router.name), name: "\(router.name)-announce",
                    arguments: [tools.pvd, "announce", "--interface", router.link, "--config", configuration]))
        }

        // Hosts that run pvdd: a private system bus each, then pvdd.
        for host in hosts where host.runsPvdd {
            let here = "\(directory)/\(host.name)"
            plan.files.append(LabPlan.File(path: "\(here)/bus.conf", contents: busConfiguration(socket: "\(here)/bus.socket"), mode: 0o644))
            var configuration = [
                JSONMember("uplinks", .array([.string(host.link)])),
                JSONMember("state", .string("\(here)/state.json")),
            ]
            if !host.aliases.isEmpty { configuration.append(JSONMember("aliases", .object(host.aliases))) }
            if !informed.isEmpty {
                configuration.append(JSONMember("additional-information", .object([JSONMember("ca-file", .string("\(directory)/ca.crt"))])))
            }
            let vpnEntries = vpns.filter { $0.host == host.name }.map {
                JSONValue.object([JSONMember("name", .string($0.name)), JSONMember("openvpn", .string(vpnClientConfiguration($0.name)))])
            }
            if !vpnEntries.isEmpty { configuration.append(JSONMember("vpns", .array(vpnEntries))) }
            plan.files.append(LabPlan.File(path: "\(here)/pvdd.yaml", contents: JSONValue.object(configuration).serialized + "\n", mode: 0o644))
            plan.programs.append(
                LabPlan.Program(
                    namespace: namespace(host.name), name: "\(host.name)-bus",
                    arguments: ["dbus-daemon", "--config-file=\(here)/bus.conf", "--nofork", "--nopidfile", "--print-address=1"], ready: "unix:path="))
            plan.programs.append(
                LabPlan.Program(
                    namespace: namespace(host.name), name: "\(host.name)-pvdd", arguments: [tools.pvdd, "--config", "\(here)/pvdd.yaml"],
                    environment: ["DBUS_SYSTEM_BUS_ADDRESS": busAddress(of: host.name)], ready: "listening on"))
        }
        return plan
    }

    /// dnsmasq answering only for `hosts` on `listen` (`dynamic`: an address that appears later, in a tunnel).
    private func dnsmasq(listen: String, hosts: [(name: DomainName, address: String)], dynamic: Bool) -> [String] {
        [
            "dnsmasq", "--keep-in-foreground", "--log-facility=-", "--no-resolv", "--no-hosts", "--pid-file", "--user=nobody", "--group=nogroup",
            dynamic ? "--bind-dynamic" : "--bind-interfaces", "--listen-address=\(listen)",
        ]
            + hosts.map { "--host-record=\($0.name),\($0.address)" }
    }

    /// A private system bus: root owns names, everyone may call (pvdd checks who may do what).
    private func busConfiguration(socket: String) -> String {
        """
        <!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
         "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
        <busconfig>
          <type>system</type>
          <listen>unix:path=\(socket)</listen>
          <auth>EXTERNAL</auth>
          <policy context="default">
            <allow user="*"/>
            <allow send_destination="*"/>
            <allow receive_sender="*"/>
          </policy>
          <policy user="root">
            <allow own="*"/>
          </policy>
        </busconfig>

        """
    }
}
