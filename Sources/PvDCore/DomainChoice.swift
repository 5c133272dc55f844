import PvDWire

/// Which domain a destination belongs to, from what each PvD's additional
/// information claims (RFC 8801 `dnsZones`, RFC 9704 `splitDnsClaims`) and
/// says of itself (`noInternet`): `pvd which` and `pvd exec --for`.
public enum DomainChoice: Equatable, Sendable {
    /// One domain claims the name, by the longest zone.
    case claimed(domain: String, zone: DomainName)
    /// Several domains claim it by equally long zones: the caller chooses.
    case several(domains: [String], zone: DomainName)
    /// No domain claims it; `internet`: the domains that do not say
    /// noInternet (namespaces aside), among which such a name may go.
    case unclaimed(internet: [String])

    /// The domain chosen: the claiming one, or with no claim the only one
    /// that reaches the Internet; nil when the caller must choose.
    public var domain: String? {
        switch self {
        case .claimed(let domain, _): domain
        case .several: nil
        case .unclaimed(let internet): internet.count == 1 ? internet[0] : nil
        }
    }

    /// The domains among which the choice was made.
    public var candidates: [String] {
        switch self {
        case .claimed(let domain, _): [domain]
        case .several(let domains, _): domains
        case .unclaimed(let internet): internet
        }
    }

    /// Why, in a sentence about `name`.
    public func explanation(for name: DomainName) -> String {
        switch self {
        case .claimed(let domain, let zone): "\(domain) claims \(zone)"
        case .several(let domains, let zone): "\(domains.joined(separator: ", ")) all claim \(zone): choose one"
        case .unclaimed(let internet) where internet.count == 1:
            "no domain claims \(name); \(internet[0]) is the only one that does not say noInternet"
        case .unclaimed(let internet) where internet.isEmpty: "no domain claims \(name) and every one says noInternet"
        case .unclaimed: "no domain claims \(name); choose among those that do not say noInternet"
        }
    }

    /// What one domain says of itself.
    public struct Claims: Equatable, Sendable {
        public var name: String
        public var kind: DomainKind
        public var pvdID: DomainName?
        public var document: PvDAdditionalInformation?

        public init(name: String, kind: DomainKind, pvdID: DomainName?, document: PvDAdditionalInformation?) {
            self.name = name
            self.kind = kind
            self.pvdID = pvdID
            self.document = document
        }

        /// The zones this domain is chosen for: every `dnsZones` entry (the
        /// document came over HTTPS from the PvD ID's own server), and each
        /// `splitDnsClaims` entry ``verified(_:)`` accepts.
        public var zones: [DomainName] {
            guard let document else { return [] }
            return document.dnsZones + document.splitDnsClaims.filter(verified)
        }

        /// The claims ``verified(_:)`` refuses, shown but never acted on.
        public var unverifiedClaims: [DomainName] { document?.splitDnsClaims.filter { !verified($0) } ?? [] }

        public var noInternet: Bool { document?.noInternet ?? false }

        /// A split-DNS claim is accepted for a zone at or under the PvD ID's
        /// parent (the PvD ID itself when its parent is a top-level domain):
        /// what the certificate the document was fetched with vouches for.
        /// RFC 9704's confirmation by the claimed zone itself (a signed
        /// record there) is not made, so nothing beyond that is accepted.
        public func verified(_ claim: DomainName) -> Bool {
            guard let pvdID, claim.labels.count >= 2 else { return false }
            let labels = pvdID.labels
            let anchor = labels.count > 2 ? Array(labels.dropFirst()) : labels
            return DomainChoice.name(claim.labels, isAtOrUnder: anchor)
        }
    }

    /// The choice for `name` among `domains`.
    public static func choose(_ name: DomainName, among domains: [Claims]) -> DomainChoice {
        var best: (length: Int, zone: DomainName, domains: [String])?
        for domain in domains {
            for zone in domain.zones where DomainChoice.name(name.labels, isAtOrUnder: zone.labels) {
                let length = zone.labels.count
                if let current = best, current.length > length { continue }
                if let current = best, current.length == length {
                    if !current.domains.contains(domain.name) { best?.domains.append(domain.name) }
                } else {
                    best = (length, zone, [domain.name])
                }
            }
        }
        if let best {
            return best.domains.count == 1 ? .claimed(domain: best.domains[0], zone: best.zone) : .several(domains: best.domains.sorted(), zone: best.zone)
        }
        return .unclaimed(internet: domains.filter { !$0.noInternet && $0.kind != .namespace }.map(\.name).sorted())
    }

    /// The host name in `text`: a name, or a URL's host (`https://h:443/p` → h).
    public static func hostName(in text: String) throws(PvDAwareCallError) -> DomainName {
        var host = Substring(text)
        if let scheme = host.range(ofText: "://") { host = host[scheme.upperBound...] }
        host = host.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        if let at = host.lastIndex(of: "@") { host = host[host.index(after: at)...] }
        guard !host.hasPrefix("[") else { throw .invalid("\(text) names an address, not a host name") }
        host = host.prefix { $0 != ":" }
        guard !host.isEmpty else { throw .invalid("\(text) has no host name") }
        do { return try DomainName(host) } catch { throw .invalid("\(host) is not a host name: \(error)") }
    }

    /// Whether `labels` equal or end with `zone`, letters compared in any case.
    static func name(_ labels: [ArraySlice<UInt8>], isAtOrUnder zone: [ArraySlice<UInt8>]) -> Bool {
        guard zone.count <= labels.count else { return false }
        return zip(labels.suffix(zone.count), zone).allSatisfy { a, b in
            a.count == b.count && zip(a, b).allSatisfy { lower($0) == lower($1) }
        }
    }

    private static func lower(_ byte: UInt8) -> UInt8 { byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte }
}

/// The environment a program in a domain gets from its additional
/// information's proxies: the conventional variables curl, git, apt, wget
/// and browsers read, in lower and upper case.
public enum ProxyEnvironment {
    /// `http_proxy`/`https_proxy` from the first `http-connect` proxy,
    /// `no_proxy` from `proxy-match` entries that use no proxy, and
    /// `PVD_PROXY_PAC` from a `pac` proxy (no convention exists for a PAC
    /// location in the environment). Empty when the document has no proxy.
    public static func variables(for document: PvDAdditionalInformation?) -> [(String, String)] {
        guard let document, !document.proxies.isEmpty else { return [] }
        var variables: [(String, String)] = []
        if let proxy = document.proxies.first(where: { $0.protocolName == "http-connect" }), safe(proxy.location) {
            let url = proxy.location.contains(text: "://") ? proxy.location : "http://" + proxy.location
            for name in ["http_proxy", "https_proxy"] { variables += [(name, url), (name.uppercased(), url)] }
            let direct = document.proxyMatch.filter(\.proxies.isEmpty).flatMap(\.domains)
                .map { $0.hasPrefix("*.") ? String($0.dropFirst(2)) : $0 }.filter(safe)
            let noProxy = (["localhost", "127.0.0.1", "::1"] + direct).joined(separator: ",")
            variables += [("no_proxy", noProxy), ("NO_PROXY", noProxy)]
        }
        if let pac = document.proxies.first(where: { $0.protocolName == "pac" }), safe(pac.location) {
            variables.append(("PVD_PROXY_PAC", pac.location))
        }
        return variables
    }

    /// No control characters, spaces or commas: a value a program's parser takes as one item.
    private static func safe(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy { $0 > 0x20 && $0 != 0x7F && $0 != UInt8(ascii: ",") }
    }
}
