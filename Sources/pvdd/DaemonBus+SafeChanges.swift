import BusWire
import LinuxSystem
import PvDCore
import Systemd

/// org.pvd1's safe changes (docs/fleet.md): checkpoints, verification and
/// the staged candidate, each root's or a polkit-authorized user's, but
/// ListCheckpoints and GetStagedState, which everyone may read.
extension DaemonBus {
    func callSafeChange(_ method: PvDBusAPI.Method, _ arguments: [BusValue], caller: BusCaller) throws(BusError) -> [BusValue] {
        switch method {
        case .checkpointCreate:
            try requireAuthorized(caller, "make a checkpoint")
            guard case .uint32(let timeout)? = arguments.first else {
                throw BusError(PvDBusAPI.ErrorName.invalidArguments, "CheckpointCreate takes a timeout in seconds")
            }
            return [.objectPath(PvDBusAPI.path(ofCheckpoint: try runner.createCheckpoint(timeout: timeout).number))]
        case .checkpointRollback:
            try requireAuthorized(caller, "roll a checkpoint back")
            let number = try checkpointNumber(arguments)
            return [.strings(try runner.rollBack(number, reason: "CheckpointRollback by uid \(try caller.uid())"))]
        case .checkpointDestroy:
            try requireAuthorized(caller, "confirm a checkpoint")
            try runner.confirmCheckpoint(try checkpointNumber(arguments))
            return []
        case .listCheckpoints:
            return [.array(elementSignature: "o", runner.checkpoint.map { [.objectPath(PvDBusAPI.path(ofCheckpoint: $0.number))] } ?? [])]
        case .verify:
            try requireAuthorized(caller, "verify domains (it sends solicitations and queries)")
            guard arguments.count == 2, case .array(_, let items) = arguments[0], case .uint32(let wait) = arguments[1] else {
                throw BusError(PvDBusAPI.ErrorName.invalidArguments, "Verify takes domain names (none: every domain) and the longest wait in seconds")
            }
            guard items.count <= Runner.maximumVerifiedNames else {
                throw BusError(PvDBusAPI.ErrorName.invalidArguments, "Verify takes at most \(Runner.maximumVerifiedNames) names")
            }
            var names: [String] = []
            for item in items { names.append(try resolve([item])) }
            guard let reply = caller.replyLater() else { throw BusError(PvDBusAPI.ErrorName.failed, "not a bus call") }
            do {
                try runner.verify(names.isEmpty ? runner.domainNames() : names, wait: Double(min(wait, 600))) { results in
                    reply.send([.array(elementSignature: "(ssbsx)", results.map { .structure([.string($0.domain)] + DaemonBus.fields(of: $0.check)) })])
                }
            } catch {
                reply.fail(error)
            }
            return []
        case .stageState:
            try requireAuthorized(caller, "stage a change")
            guard let text = arguments.first?.text else { throw BusError(PvDBusAPI.ErrorName.invalidArguments, "StageState takes a state (YAML)") }
            return [.strings(try runner.stage(text))]
        case .stageRemove:
            try requireAuthorized(caller, "stage a change")
            guard let name = arguments.first?.text else { throw BusError(PvDBusAPI.ErrorName.invalidArguments, "StageRemove takes a name") }
            return [.strings(try runner.unstage(try validName(name)))]
        case .getStagedState:
            guard let staged = runner.staged else { throw BusError(PvDBusAPI.ErrorName.notFound, "nothing is staged") }
            return [.string(staged.candidate.yaml), .strings(staged.changes.map(\.description))]
        case .commitStagedState:
            try requireAuthorized(caller, "commit the staged changes")
            return [.strings(try runner.commitStaged())]
        case .discardStagedState:
            try requireAuthorized(caller, "discard the staged changes")
            guard runner.staged != nil else { throw BusError(PvDBusAPI.ErrorName.notFound, "nothing is staged") }
            runner.staged = nil
            return []
        default:
            throw BusError("org.freedesktop.DBus.Error.UnknownMethod", "no method \(method.rawValue) here")
        }
    }

    /// A health check as D-Bus carries it: (check, passed, detail, time).
    static func fields(of check: HealthCheck) -> [BusValue] {
        [.string(check.kind.rawValue), .boolean(check.passed), .string(check.detail), .int64(check.time)]
    }

    /// A property of the pending checkpoint at `path`.
    func checkpointProperty(_ name: String, path: String) throws(BusError) -> BusValue {
        guard let checkpoint = runner.checkpoint, PvDBusAPI.checkpointNumber(ofPath: path) == checkpoint.number else {
            throw BusError(PvDBusAPI.ErrorName.notFound, "no checkpoint at \(path)")
        }
        guard let property = PvDBusAPI.CheckpointProperty(rawValue: name) else { throw BusError(PvDBusAPI.ErrorName.invalidArguments, "no property \(name)") }
        // The daemon's clock is CLOCK_BOOTTIME; people read dates.
        let offset = Double(SystemClock.unixTime) - runner.loop.now
        return switch property {
        case .created: .uint64(UInt64(max(0, checkpoint.created + offset)))
        case .expires: .uint64(UInt64(max(0, checkpoint.expires + offset)))
        case .timeout: .uint32(checkpoint.timeout)
        case .declaredState: .string(checkpoint.declared)
        case .dropIns: .strings(checkpoint.dropIns.keys.sorted())
        }
    }

    private func checkpointNumber(_ arguments: [BusValue]) throws(BusError) -> UInt32 {
        guard let path = arguments.first?.text, let number = PvDBusAPI.checkpointNumber(ofPath: path) else {
            throw BusError(PvDBusAPI.ErrorName.invalidArguments, "a checkpoint's object path is needed (\(PvDBusAPI.checkpointPrefix)/N)")
        }
        return number
    }
}
