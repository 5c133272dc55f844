import PvDWire

/// Human-readable text for a decoded RA: one line per header and option,
/// nested PvD options indented.
enum RATextFormatter {
    static func text(
        _ ra: RouterAdvertisement, _ captured: CapturedRouterAdvertisement?,
        _ notes: [ParseNote]
    ) -> String {
        var lines: [String] = []
        var title = "router advertisement"
        if let captured { title += " from \(captured.source) (packet \(captured.packet))" }
        lines.append(title)
        lines.append("  " + header(ra.header))
        lines += options(ra.options, indent: "  ")
        lines += notes.map { "  note: \($0)" }
        return lines.joined(separator: "\n")
    }

    static func header(_ header: RouterAdvertisementHeader) -> String {
        let flags = [(header.managed, "M"), (header.other, "O"), (header.homeAgent, "H"), (header.proxy, "P")]
            .filter(\.0).map(\.1)
        return "hop limit \(header.curHopLimit), flags \(flags.isEmpty ? "none" : flags.joined(separator: " ")), "
            + "preference \(header.preference), router lifetime \(header.routerLifetime) s, "
            + "reachable \(header.reachableTime) ms, retrans \(header.retransTimer) ms"
    }

    static func lifetime(_ seconds: UInt32) -> String {
        seconds == .max ? "infinite" : "\(seconds) s"
    }

    static func options(_ options: [NDOption], indent: String) -> [String] {
        var lines: [String] = []
        for option in options {
            switch option {
            case .sourceLinkLayerAddress(let body):
                lines.append("source link-layer address \(NDOption.linkLayerText(body))")
            case .mtu(let mtu):
                lines.append("mtu \(mtu)")
            case .prefixInformation(let pio):
                let flags = [(pio.onLink, "on-link"), (pio.autonomous, "autonomous"), (pio.routerAddress, "router-address")]
                    .filter(\.0).map(\.1)
                lines.append(
                    "prefix \(pio.prefix) \(flags.isEmpty ? "no flags" : flags.joined(separator: " ")), "
                        + "valid \(lifetime(pio.validLifetime)), preferred \(lifetime(pio.preferredLifetime))")
            case .routeInformation(let rio):
                lines.append("route \(rio.prefix) preference \(rio.preference), lifetime \(lifetime(rio.lifetime))")
            case .recursiveDNSServers(let rdnss):
                lines.append("rdnss \(rdnss.servers.map(\.description).joined(separator: " ")), lifetime \(lifetime(rdnss.lifetime))")
            case .dnsSearchList(let dnssl):
                lines.append("dnssl \(dnssl.domains.map(\.description).joined(separator: " ")), lifetime \(lifetime(dnssl.lifetime))")
            case .unknown(let type, let body):
                lines.append("unknown option \(type): \(Hex.encode(body))")
            case .provisioningDomain(let pvd):
                let flags = [(pvd.http, "H"), (pvd.legacy, "L"), (pvd.hasRouterAdvertisementHeader, "R")]
                    .filter(\.0).map(\.1)
                lines.append("pvd \(pvd.id) sequence \(pvd.sequence), flags \(flags.isEmpty ? "none" : flags.joined(separator: " ")), delay \(pvd.delay)")
                if let header = pvd.routerAdvertisementHeader {
                    lines.append("  ra header: " + self.header(header))
                }
                lines += self.options(pvd.options, indent: "  ")
            }
        }
        return lines.map { indent + $0 }
    }
}
