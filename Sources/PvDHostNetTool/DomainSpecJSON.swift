import CommandSyntax
import LinuxSystem
import PvDCore
import PvDWire

/// pvd-hostnet reads specs in PvDCore's JSON form (``DomainSpec/init(json:)``),
/// plus "prefixes": one stable address per prefix (StableAddress, with the
/// secret from "secret" or a fixed test secret).
func spec(fromJSON json: JSONValue) throws -> DomainSpec {
    var spec: DomainSpec
    do { spec = try DomainSpec(json: json) } catch { throw UsageError("\(error)") }
    let secret: [UInt8]
    if case .string(let text) = json["secret"] { secret = Array(text.utf8) } else { secret = Array("pvd-hostnet".utf8) }
    if case .array(let items) = json["prefixes"] {
        for item in items {
            guard case .string(let text) = item, let prefix = IPv6Prefix(text) else {
                throw UsageError("\"prefixes\": \(item) is not a prefix")
            }
            spec.addresses.append(StableAddress.address(in: prefix, domain: spec.name, secret: secret))
        }
    }
    return spec
}

/// The specs in a JSON file holding one object or an array of them.
func readSpecs(_ path: String) throws -> [DomainSpec] {
    guard let text = HostFiles.read(path) else { throw failure("\(path): cannot read") }
    let document: JSONValue
    do { document = try JSONValue.parse(Array(text.utf8)) } catch { throw failure("\(path): \(error)") }
    do {
        if case .array(let items) = document { return try items.map(spec(fromJSON:)) }
        return [try spec(fromJSON: document)]
    } catch { throw failure("\(path): \(error)") }
}
