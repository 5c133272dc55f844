import BusWire

/// The command line's view of pvdd over `org.pvd1`.
public final class PvDClient {
    public let connection: BusConnection

    /// Connects to the system bus (see ``BusConnection/system(trustEnvironment:)``).
    public init(trustEnvironment: Bool) throws(BusError) {
        do { connection = try BusConnection.system(trustEnvironment: trustEnvironment) } catch {
            throw PvDBusAPI.busUnreachable(error)
        }
    }

    /// Calls a manager method; "pvdd is not running" when nobody owns org.pvd1.
    /// A method polkit authorizes may have polkit ask the user's
    /// authentication agent, so it waits up to 5 minutes.
    public func manager(_ method: PvDBusAPI.Method, _ arguments: [BusValue] = []) throws(BusError) -> [BusValue] {
        let authorized = method.action != nil
        return try call(PvDBusAPI.managerPath, PvDBusAPI.managerInterface, method.rawValue, arguments, interactive: authorized, timeout: authorized ? 300 : 25)
    }

    private func call(
        _ path: String, _ interface: String, _ member: String, _ arguments: [BusValue], interactive: Bool = false, timeout: UInt64 = 25
    ) throws(BusError) -> [BusValue] {
        do { return try connection.call(PvDBusAPI.busName, path, interface, member, arguments, interactive: interactive, timeout: timeout) } catch {
            throw PvDBusAPI.daemonNotRunning(error) ?? error
        }
    }

    /// The domains: name, kind, object path.
    public func domains() throws(BusError) -> [(name: String, kind: String, path: String)] {
        guard case .array(_, let items)? = try manager(.listDomains).first else { return [] }
        return items.compactMap {
            guard case .structure(let fields) = $0, fields.count == 3, let name = fields[0].text, let kind = fields[1].text,
                let path = fields[2].text
            else { return nil }
            return (name, kind, path)
        }
    }

    /// Every property of the domain at `path`, by name.
    public func properties(of path: String) throws(BusError) -> [(name: String, value: BusValue)] {
        guard
            case .array(_, let items)? = try call(
                path, "org.freedesktop.DBus.Properties", "GetAll",
                [.string(PvDBusAPI.domainInterface)]
            ).first
        else { return [] }
        return items.compactMap {
            guard case .dictEntry(.string(let name), .variant(let value)) = $0 else { return nil }
            return (name, value)
        }
    }

    /// The object path of the domain a person names (its name or an unambiguous start).
    public func path(of name: String) throws(BusError) -> String {
        guard let path = try manager(.getDomain, [.string(name)]).first?.text else {
            throw BusError(PvDBusAPI.ErrorName.failed, "pvdd gave no object path")
        }
        return path
    }
}
