import BusWire
import CommandSyntax
import Glibc
import LinuxSystem
import PvDExec
import PvDWire
import Systemd

/// What every command that talks to pvdd shares: the connection and how a
/// failure is told (one line, exit status 1).
protocol DaemonCommand: CommandLineCommand {
    func run(with client: PvDClient) throws(BusError)
}

extension DaemonCommand {
    func run() throws {
        do throws(BusError) {
            try run(with: try PvDClient(trustEnvironment: isTrustedCaller))
        } catch {
            printError(error.message)
            throw ExitStatus(1)
        }
    }
}

/// A D-Bus value as JSON: dictionaries of `{sX}` become objects.
func jsonValue(_ value: BusValue) -> JSONValue {
    switch value {
    case .string(let text), .objectPath(let text), .typeSignature(let text): return .string(text)
    case .boolean(let flag): return .bool(flag)
    case .byte(let number): return .integer(Int64(number))
    case .int16(let number): return .integer(Int64(number))
    case .uint16(let number): return .integer(Int64(number))
    case .uint32(let number): return .integer(Int64(number))
    case .uint64(let number): return number > UInt64(Int64.max) ? .null : .integer(Int64(number))
    case .int32(let number): return .integer(Int64(number))
    case .int64(let number): return .integer(number)
    case .double(let number): return .number(number)
    case .unixFD(let fd): return .integer(Int64(fd))
    case .variant(let inner): return jsonValue(inner)
    case .structure(let fields): return .array(fields.map(jsonValue))
    case .dictEntry(let key, let item): return .array([jsonValue(key), jsonValue(item)])
    case .array(let element, let items) where element.hasPrefix("{s"):
        return .object(
            items.compactMap {
                guard case .dictEntry(.string(let key), let item) = $0 else { return nil }
                return JSONMember(key, jsonValue(item))
            })
    case .array(_, let items): return .array(items.map(jsonValue))
    }
}

/// A property value for people: lists joined by commas, a lifetime in seconds.
func text(_ value: BusValue) -> String {
    switch value {
    case .array(let element, let items) where element.hasPrefix("{s"):
        return items.compactMap {
            guard case .dictEntry(.string(let key), let item) = $0 else { return nil }
            return "\(key)=\(text(item))"
        }.joined(separator: " ")
    case .array(_, let items): return items.isEmpty ? "-" : items.map(text).joined(separator: ", ")
    case .uint64(let number): return number == .max ? "forever" : "\(number)"
    case .string(let value): return value.isEmpty ? "-" : value
    default:
        if case .string(let value) = jsonValue(value) { return value }
        return jsonValue(value).serialized
    }
}

func printLine(_ line: String) {
    var text = line + "\n"
    text.withUTF8 { _ = write(1, $0.baseAddress, $0.count) }
}

/// Columns padded to their widest cell.
func printTable(_ rows: [[String]]) {
    guard let header = rows.first else { return }
    let widths = header.indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
    for row in rows {
        printLine(
            row.enumerated().map {
                $0.offset == row.count - 1
                    ? $0.element
                    : $0.element + String(repeating: " ", count: widths[$0.offset] - $0.element.count)
            }.joined(separator: "  "))
    }
}

/// One domain as the command line's JSON has it (docs/dbus-api.md, "JSON"):
/// every property under its snake_case key; a lifetime without end is null,
/// additional information is the document itself (or null).
func domainJSON(_ properties: [String: BusValue]) -> JSONValue {
    .object(
        PvDBusAPI.Property.allCases.compactMap { property in
            guard let value = properties[property.rawValue] else { return nil }
            if property == .additionalInfo {
                let text = value.text ?? ""
                return JSONMember(property.jsonKey, text.isEmpty ? .null : (try? JSONValue.parse(Array(text.utf8))) ?? .string(text))
            }
            return JSONMember(property.jsonKey, jsonValue(value))
        })
}

/// One domain as `pvd show` and `pvd status` print it: the same labels, units on durations.
func printDomain(_ name: String, _ properties: [String: BusValue], all: Bool) {
    let pvd = properties["PvDId"].map(text).flatMap { $0 == "-" ? nil : " (PvD \($0))" } ?? ""
    let internet = saysNoInternet(properties) ? ", no Internet (its additional information says so)" : ""
    printLine("\(name)\(pvd): \(properties["Kind"].map(text) ?? "-"), \(properties["State"].map(text) ?? "-")\(internet)")
    printLine("  \(properties["StateReason"].map(text) ?? "-")")
    let shown: [PvDBusAPI.Property] =
        [.origin, .uplinks, .routers, .addresses] + (all ? [.routes] : []) + [.dnsServers, .searchDomains, .ipv4, .lifetime]
        + [.claims, .environment] + (all ? [.sequence, .flags, .additionalInfo] : []) + [.namespacePath]
    let width = shown.map(\.label.count).max() ?? 0
    for property in shown {
        var value = properties[property.rawValue].map(text) ?? "-"
        if property == .lifetime, value != "forever", value != "-" { value += " s" }
        printLine("  \(property.label):\(String(repeating: " ", count: width - property.label.count)) \(value)")
    }
    // The last verification (pvd verify, or after an apply): a line per check.
    guard case .array(_, let checks)? = properties[PvDBusAPI.Property.health.rawValue] else { return }
    for (index, check) in checks.enumerated() {
        guard case .structure(let fields) = check, fields.count == 4, let kind = fields[0].text, case .boolean(let passed) = fields[1],
            let detail = fields[2].text, case .int64(let time) = fields[3]
        else { continue }
        let label = index == 0 ? "Health:" + String(repeating: " ", count: max(0, width - 6)) : String(repeating: " ", count: width + 1)
        printLine("  \(label) \(passed ? "ok" : "FAILED") \(kind): \(detail) (\(SystemClock.localTimeOfDay(at: time)))")
    }
}

/// Whether the domain's Flags say noInternet (its additional information).
func saysNoInternet(_ properties: [String: BusValue]) -> Bool {
    guard case .array(_, let entries)? = properties[PvDBusAPI.Property.flags.rawValue] else { return false }
    return entries.contains { $0 == .dictEntry(.string("noInternet"), .boolean(true)) }
}

/// A path made absolute from the working directory: pvdd takes absolute
/// paths, and a relative one is the caller's.
func absolutePath(_ path: String) -> String {
    guard !path.hasPrefix("/") else { return path }
    var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
    guard getcwd(&buffer, buffer.count) != nil else { return path }
    return String(cBuffer: buffer) + "/" + path
}
