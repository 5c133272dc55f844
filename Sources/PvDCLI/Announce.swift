import CommandSyntax
import Glibc
import LinuxSystem
import NDP
import PvDConfig
import PvDCore
import PvDLab
import PvDWire

/// Set by SIGTERM and SIGINT: `pvd announce` sends its last RA and ends.
nonisolated(unsafe) private var stopRequested: sig_atomic_t = 0

/// `pvd announce`: a router for labs that sends RFC 8801 PvD options, which
/// no router daemon Debian ships can.
struct Announce: CommandLineCommand {
    static let command = Command(
        "announce", abstract: "Send Router Advertisements with an RFC 8801 PvD option (a router for IPv6 labs).",
        discussion: """
            With --pvd-id the prefixes, DNS, routes and MTU go inside the PvD option (--outside repeats them outside \
            too, for PvD-unaware hosts). Sends on --interface with RFC 4861's timing (three fast RAs first, then \
            every 200 to 600 s, or every --interval seconds), answers Router Solicitations, and on SIGTERM or \
            SIGINT sends a last RA with router lifetime 0. --dry-run --hex prints each RA as one line of hex, \
            the form pvd ra decode reads, and sends nothing.
            """,
        options: [
            .value("interface", help: "The interface to send on (its link-layer address goes in the RA).", completion: .interface),
            .flag("dry-run", help: "Print the RA instead of sending it."),
            .flag("hex", help: "With --dry-run: as one line of hex from the ICMPv6 type octet on."),
            .value("interval", "seconds", help: "Seconds between RAs (default: RFC 4861's random 200 to 600 s, the first three at most 16 s apart)."),
            .flag("once", help: "Send one RA and end."),
            .value("pvd-id", "fqdn", help: "The PvD ID (an FQDN): the options go inside a PvD option."),
            .value("sequence", "number", help: "The PvD's sequence number."),
            .flag("h", help: "The H flag: additional information at https://<PvD ID>/.well-known/pvd."),
            .flag("l", help: "The L flag: the PvD offers IPv4 (DHCPv4)."),
            .value("delay", "number", help: "The PvD option's Delay (0 to 15)."),
            .flag("ra-header", help: "The R flag: the RA header inside the PvD option too."),
            .value("prefix", help: "A prefix, on-link and for autoconfiguration (repeat for more).", repeats: true),
            .value("rdnss", "address", help: "A DNS server (repeat for more).", repeats: true),
            .value("dnssl", "domain", help: "A DNS search domain (repeat for more).", repeats: true),
            .value("route", "prefix", help: "A route (RFC 4191; repeat for more).", repeats: true),
            .value("mtu", "bytes", help: "The link's MTU."),
            .value("router-lifetime", "seconds", help: "Seconds the router is a default router (0: it is not)."),
            .flag("outside", help: "Also put the prefixes, DNS, routes and MTU outside the PvD option, for PvD-unaware hosts."),
            .value("info", "file", help: "With --pvd-id: serve this JSON file as the PvD's additional information (sets --h).", completion: .file),
            .value("certificate", "file", help: "With --info: the certificate (PEM) for the PvD ID.", completion: .file),
            .value("key", "file", help: "With --info: its private key (PEM).", completion: .file),
            .value("info-address", "address", help: "With --info: the address to listen on, port 443 (default: every address)."),
            .value(
                "config", "file", help: "The announcement as YAML: several PvDs (an RA each) and options outside them (docs/labs.md).",
                completion: .file),
            .value("link-mtu", "bytes", help: "With --dry-run: the link MTU an RA must fit (default 1500; sending uses the interface's)."),
        ],
        action: action)

    let interface, pvdID, info, certificate, key, infoAddress, config: String?
    let dryRun, hex, once, http, legacy, raHeader, outside: Bool
    let interval: Double?
    let sequence: UInt16
    let delay: UInt8
    let prefixes, dnsServers, searchDomains, routes: [String]
    let mtu: UInt32?
    let routerLifetime: UInt16?
    let linkMTU: Int?

    init(_ arguments: Arguments) throws(UsageError) {
        (interface, pvdID, info) = (arguments.value("interface"), arguments.value("pvd-id"), arguments.value("info"))
        (certificate, key, infoAddress) = (arguments.value("certificate"), arguments.value("key"), arguments.value("info-address"))
        config = arguments.value("config")
        (dryRun, hex, once, outside) = (arguments.flag("dry-run"), arguments.flag("hex"), arguments.flag("once"), arguments.flag("outside"))
        (http, legacy, raHeader) = (arguments.flag("h"), arguments.flag("l"), arguments.flag("ra-header"))
        interval = try arguments.value("interval", as: Double.self)
        sequence = try arguments.value("sequence", as: UInt16.self) ?? 0
        delay = try arguments.value("delay", as: UInt8.self) ?? 0
        (prefixes, dnsServers) = (arguments.values("prefix"), arguments.values("rdnss"))
        (searchDomains, routes) = (arguments.values("dnssl"), arguments.values("route"))
        mtu = try arguments.value("mtu", as: UInt32.self)
        routerLifetime = try arguments.value("router-lifetime", as: UInt16.self)
        linkMTU = try arguments.value("link-mtu", as: Int.self)
        try validate()
    }

    private func validate() throws(UsageError) {
        if dryRun, !hex { throw UsageError("--dry-run prints hex: add --hex") }
        if !dryRun, interface == nil { throw UsageError("where to send? --interface IF (or --dry-run --hex)") }
        if let interface, interface.isEmpty || interface.utf8.count > 15 || interface.contains("/") || interface.hasPrefix(".") {
            throw UsageError("--interface \(interface) is not an interface name")
        }
        if delay > 15 { throw UsageError("--delay is 0 to 15") }
        if pvdID == nil, http || legacy || raHeader || outside || sequence != 0 || delay != 0 || info != nil {
            throw UsageError("--h, --l, --ra-header, --outside, --sequence, --delay and --info go with --pvd-id")
        }
        if (info == nil) != (certificate == nil) || (info == nil) != (key == nil) || (info == nil && infoAddress != nil) {
            throw UsageError("--info needs --certificate and --key (and --info-address goes with them)")
        }
        if config != nil, pvdID != nil || !prefixes.isEmpty || !dnsServers.isEmpty || !searchDomains.isEmpty || !routes.isEmpty || mtu != nil {
            throw UsageError("--config holds the PvDs and options: give them there, not as options too")
        }
        if let interval, !(interval >= 0.05) { throw UsageError("--interval is a number of seconds, at least 0.05") }
        if let linkMTU, !(1280...65535).contains(linkMTU) { throw UsageError("--link-mtu is 1280 to 65535") }
        if try announcement().pvds.contains(where: { $0.information != nil }), once, !dryRun {
            throw UsageError("the additional information is served while pvd announce runs: not with --once")
        }
    }

    /// The announcement: from --config, or from the options.
    func announcement() throws(UsageError) -> RouterAnnouncement {
        var result = RouterAnnouncement()
        if let config {
            let text: String
            do { text = String(decoding: try readFile(config, limit: YAMLLimits.maximumBytes), as: UTF8.self) } catch {
                throw UsageError(error.description)
            }
            do { result = try RouterAnnouncement(json: try YAMLDocument.parse(text)) } catch { throw UsageError("\(config): \(error)") }
        } else {
            var options = RouterAnnouncement.Options()
            for text in prefixes {
                guard let prefix = IPv6Prefix(text) else { throw UsageError("--prefix \(text) is not an IPv6 prefix (2001:db8:1::/64)") }
                options.prefixes.append(prefix)
            }
            for text in dnsServers {
                guard let address = IPv6Address(text) else { throw UsageError("--rdnss \(text) is not an IPv6 address") }
                options.dnsServers.append(address)
            }
            for text in searchDomains {
                do { options.searchDomains.append(try DomainName(text)) } catch { throw UsageError("--dnssl \(text): \(error)") }
            }
            for text in routes {
                guard let prefix = IPv6Prefix(text) else { throw UsageError("--route \(text) is not an IPv6 prefix") }
                options.routes.append(prefix)
            }
            options.mtu = mtu
            if let pvdID {
                var pvd: RouterAnnouncement.PvD
                do { pvd = RouterAnnouncement.PvD(id: try DomainName(pvdID)) } catch { throw UsageError("--pvd-id \(pvdID): \(error)") }
                (pvd.sequence, pvd.http, pvd.legacy, pvd.delay, pvd.raHeader, pvd.options) = (sequence, http, legacy, delay, raHeader, options)
                if let info, let certificate, let key {
                    pvd.information = .init(file: info, certificate: certificate, key: key)
                    if let infoAddress {
                        guard let address = IPv6Address(infoAddress) else { throw UsageError("--info-address \(infoAddress) is not an IPv6 address") }
                        pvd.information?.address = address
                    }
                    pvd.http = true
                }
                result.pvds = [pvd]
                if outside { result.outside = options }
            } else {
                result.outside = options
            }
        }
        if let routerLifetime { result.routerLifetime = routerLifetime }
        return result
    }

    /// The RAs in wire form, and the last ones (router lifetime 0) sent on
    /// stopping: with the interface's link-layer address and split to its
    /// MTU when sending. The announcement and the interface are read once.
    func messages(of announcement: RouterAnnouncement) throws(UsageError) -> (regular: [[UInt8]], last: [[UInt8]]) {
        let address = try interface.map { name throws(UsageError) in try Announce.linkLayerAddress(of: name) }
        let mtu = linkMTU ?? interface.flatMap { LinuxSystem.interfaceMTU(of: $0) } ?? 1500
        func encoded(_ lifetime: UInt16?) throws(EncodeError) -> [[UInt8]] {
            try announcement.advertisements(routerLifetime: lifetime, linkMTU: mtu, linkLayerAddress: address).map { ra throws(EncodeError) in try ra.encoded()
            }
        }
        do { return (try encoded(nil), try encoded(0)) } catch { throw UsageError("\(error)") }
    }

    /// The interface's link-layer address.
    static func linkLayerAddress(of interface: String) throws(UsageError) -> [UInt8] {
        guard if_nametoindex(interface) != 0 else { throw UsageError("there is no interface \(interface) in this network namespace") }
        guard let octets = LinuxSystem.linkLayerAddress(of: interface) else { throw UsageError("\(interface) has no Ethernet address") }
        return octets
    }

    func run() throws {
        try reportingFailures { try announce() }
    }

    private func announce() throws {
        let announcement = try announcement()
        let (messages, last) = try messages(of: announcement)
        if dryRun {
            for message in messages { print(Hex.encode(message[...])) }
            return
        }
        guard let interface else { return }
        // The additional information is there before an RA announces it, and goes after the last.
        var services: [InformationService] = []
        defer { for service in services { service.stop() } }
        for pvd in announcement.pvds {
            guard let server = pvd.information else { continue }
            services.append(try InformationService.start(server, for: pvd.id, on: interface))
        }
        let sender: RouterAdvertisementSender
        do { sender = try RouterAdvertisementSender(interface: interface) } catch { throw CommandFailure("\(error)") }
        func sendAll(_ messages: [[UInt8]]) throws(SystemError) {
            for message in messages { try sender.send(message) }
        }
        // An interface that just came up has no usable link-local address for
        // a second or two (DAD): the first RA waits for it, up to 10 s.
        var waited = 0.0
        while true {
            do {
                try sendAll(messages)
                break
            } catch  where (error.code == .errno(ENETUNREACH) || error.code == .errno(EADDRNOTAVAIL)) && waited < 10 {
                usleep(200_000)
                waited += 0.2
            } catch {
                throw CommandFailure("\(error)")
            }
        }
        if once { return }
        signal(SIGTERM) { _ in stopRequested = 1 }
        signal(SIGINT) { _ in stopRequested = 1 }
        var fast = 2  // RFC 4861 §6.2.4: MAX_INITIAL_RTR_ADVERTISEMENTS is 3
        var lastSent = SystemClock.monotonic
        var next = lastSent + nextInterval(fast: fast > 0)
        while stopRequested == 0 {
            var descriptor = pollfd(fd: sender.descriptor, events: Int16(POLLIN), revents: 0)
            let wait = Int32(max(0, min(0.2, next - SystemClock.monotonic)) * 1000)
            if poll(&descriptor, 1, wait) > 0, (try? sender.receiveSolicitations()) ?? 0 > 0 {
                // An answer within MAX_RA_DELAY_TIME (0.5 s), at most one per MIN_DELAY_BETWEEN_RAS (3 s).
                next = min(next, max(lastSent + 3, SystemClock.monotonic + Double.random(in: 0...0.5)))
            }
            guard SystemClock.monotonic >= next else { continue }
            // One lost RA is not the end of a router (an interface briefly down): say so, go on.
            do { try sendAll(messages) } catch { printError("\(error)") }
            lastSent = SystemClock.monotonic
            fast -= 1
            next = lastSent + nextInterval(fast: fast > 0)
        }
        // A router that stops says so: router lifetime 0, so hosts stop using it now.
        do { try sendAll(last) } catch { throw CommandFailure("\(error)") }
    }

    /// RFC 4861's interval: `--interval`, or random between MinRtrAdvInterval
    /// (200 s) and MaxRtrAdvInterval (600 s), at most 16 s while fast.
    private func nextInterval(fast: Bool) -> Double {
        if let interval { return interval }
        let random = Double.random(in: 200...600)
        return fast ? min(random, 16) : random
    }

}
